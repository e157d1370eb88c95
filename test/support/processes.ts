// Running the built CLI as a child process, as an operator would (the CLI tests, the crash
// and soak tests), and the demo scenarios they replicate.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess, SpawnSyncOptionsWithStringEncoding, SpawnSyncReturns } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
export const cliPath = join(root, "dist", "cli", "main.js");

/** The built `vigil` run with `args` to its end, output as text; `options` as spawnSync's (`env` is the child's whole environment). */
export const vigil = (args: readonly string[], options: Omit<SpawnSyncOptionsWithStringEncoding, "encoding"> = {}): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [cliPath, ...args], { ...options, encoding: "utf8" });

/** Every line of the shipped demo scenarios (examples/scenarios/*.jsonl), files in name order. */
export function scenarioLines(): string[] {
  const dir = join(root, "examples", "scenarios");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean));
}

export interface Seeded {
  readonly key: string;
  readonly value: string;
  readonly partition: number;
}

/**
 * The demo scenarios replicated until `total` events, with their own sessions, agents,
 * principals and resources per replica, and replica r on partition r % partitions: every
 * fact a decision uses (session, baselines, separation-of-duties ledger) lives on one
 * partition, so the commands do not depend on how partitions interleave.
 */
export function replicatedScenarios(total: number, partitions: number): Seeded[] {
  const templates = scenarioLines();
  const out: Seeded[] = [];
  for (let r = 0; out.length < total; r++) {
    for (const line of templates) {
      const e = JSON.parse(line) as {
        sessionId: string;
        eventId: string;
        actionEventId?: string;
        agent: { id: string };
        principal: { id: string };
        resource?: { id?: string };
      };
      e.sessionId = `${e.sessionId}-r${r}`;
      e.eventId = `${e.eventId}-r${r}`;
      if (e.actionEventId) e.actionEventId = `${e.actionEventId}-r${r}`;
      e.agent.id = `${e.agent.id}-r${r}`;
      e.principal.id = `${e.principal.id}-r${r}`;
      if (e.resource?.id) e.resource.id = `${e.resource.id}-r${r}`;
      out.push({ key: e.sessionId, value: JSON.stringify(e), partition: r % partitions });
    }
  }
  return out;
}

/** `vigil start` in a child process with `env` over this process's environment; stderr piped. */
export const startProcessor = (env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [cliPath, "start"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });

/** Resolves once the child has exited (at once if it already has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
