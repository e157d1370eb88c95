import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { brokers, redisUrl } from "../support/stack-env.js";

// The README's main command, headless and time-limited: the seed's story must end with the
// self-approval downgraded and the session held for review, and the demo must exit cleanly.

const cli = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

describe("vigil demo", () => {
  it(
    "plays the expense story through both SDKs: the self-approval is denied at the gateway and downgraded pending review; exits 0",
    { timeout: 90_000 },
    async () => {
      const child = spawn(process.execPath, [cli, "demo", "--for", "20", "--pace", "30"], {
        env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl, VIGIL_HTTP_PORT: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(out).toMatch(/COMMAND DOWNGRADE exp-1 removed expense\.approve — sod\.self_approval: .*\[pending review\]/);
      expect(out).toMatch(/COMMAND DOWNGRADE exp-2 removed expense\.approve/);
      expect(out).toContain("COMMAND REVOKE code-1");
      // The command line may be printed before or after the gateway's verdict (two consumers).
      expect(out).toMatch(
        /\[exp-1\] calls expense\.approve on ER-1042\n(?: {2}⇒ COMMAND[^\n]*\n)?\s+DENIED {2}by the gateway: capability expense\.approve removed/,
      );
      expect(out).toMatch(/\[exp-3\] calls expense\.approve on ER-1042\n\s+ALLOWED by the gateway/);
      expect(out).toMatch(/stopping: 8 commands seen, [1-9]\d* background actions/);
      expect(code).toBe(0);
    },
  );

  it("ends cleanly on Ctrl-C (SIGINT) in the middle of the story", { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, [cli, "demo", "--pace", "30"], {
      env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl, VIGIL_HTTP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 60_000;
    while (!out.includes("COMMAND DOWNGRADE exp-2") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("COMMAND DOWNGRADE exp-2");
    expect(out).toMatch(/stopping: \d+ commands seen/);
  });
});
