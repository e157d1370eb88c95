// Running the built CLI as a child process, as an operator would (the crash and soak tests),
// and the demo scenarios they replicate.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
export const cliPath = join(root, "dist", "cli", "main.js");

/** Every line of the shipped demo scenarios (examples/scenarios/*.jsonl), files in name order. */
export function scenarioLines(): string[] {
  const dir = join(root, "examples", "scenarios");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean));
}

/** `vigil start` in a child process with `env` over this process's environment; stderr piped. */
export const startProcessor = (env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [cliPath, "start"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });

/** Resolves once the child has exited (at once if it already has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
