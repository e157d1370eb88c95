import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { brokers, redisUrl } from "../support/stack-env.js";

// The README's main command, headless and time-limited: the seed's story must end with the
// self-approval downgraded and the session held for review, and the demo must exit cleanly.

const cli = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

describe("vigil demo", () => {
  it(
    "plays the expense story through both SDKs: the self-approval is denied at the gateway and downgraded pending review; exits 0",
    { timeout: 90_000 },
    async () => {
      const child = spawn(process.execPath, [cli, "demo", "--for", "20", "--pace", "30", "--isolated"], {
        env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl, VIGIL_HTTP_PORT: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(out).toMatch(/COMMAND DOWNGRADE exp-1-\w+ removed expense\.approve — sod\.self_approval: .*\[pending review\]/);
      expect(out).toMatch(/COMMAND DOWNGRADE exp-2-\w+ removed expense\.approve/);
      expect(out).toMatch(/COMMAND REVOKE code-1-\w+/);
      // The command line may be printed before or after the gateway's verdict (two consumers).
      expect(out).toMatch(
        /\[exp-1-\w+\] calls expense\.approve on ER-1042\n(?: {2}⇒ COMMAND[^\n]*\n)?\s+DENIED {2}by the gateway: capability expense\.approve removed/,
      );
      expect(out).toMatch(/\[exp-3-\w+\] calls expense\.approve on ER-1042\n\s+ALLOWED by the gateway/);
      // After the story, a reviewer overturns the first hold through the review API: a restore, and the gateway allows again.
      expect(out).toMatch(/REVIEW {2}demo-reviewer overturns case case_\w+ for exp-1-\w+ through the review API/);
      expect(out).toMatch(/ALLOWED by the gateway again: expense\.approve on ER-1042 for exp-1-\w+/);
      expect(out).toMatch(/COMMAND RESTORE exp-1-\w+ — review\.overturned/);
      expect(out).toMatch(/stopping: 9 commands seen, [1-9]\d* background actions/);
      // An isolated run leaves no topics behind.
      const prefix = /topics (demo-\d+\.)\*, deleted at the end/.exec(out)?.[1];
      expect(prefix).toBeDefined();
      const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      const left = (await admin.listTopics()).filter((t) => t.startsWith(prefix as string));
      await admin.disconnect();
      expect(left).toEqual([]);
      expect(code).toBe(0);
    },
  );

  it("ends cleanly on Ctrl-C (SIGINT) in the middle of the story", { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, [cli, "demo", "--pace", "30", "--isolated"], {
      env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl, VIGIL_HTTP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 60_000;
    while (!/COMMAND DOWNGRADE exp-2/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("COMMAND DOWNGRADE exp-2");
    expect(out).toMatch(/stopping: \d+ commands seen/);
  });
});
