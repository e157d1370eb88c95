import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { brokers, redisUrl } from "../support/stack-env.js";

// The README's main command, headless and time-limited: the seed's story must end with the
// self-approval downgraded and the session held for review, and the demo must exit cleanly.

const cli = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

describe("vigil demo", () => {
  it("plays the expense story: the self-approval is downgraded pending review; exits 0", { timeout: 90_000 }, async () => {
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
    expect(out).toContain("stopping: 8 commands seen");
    expect(code).toBe(0);
  });
});
