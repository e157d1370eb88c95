import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { loadConfig } from "../../src/config/config.js";
import { ensureTopics } from "../../src/adapters/kafka/topics.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import { stackScript } from "../support/stack-env.js";
import { freePort, trustedKeys } from "../support/live.js";

// Fail closed: an enforcer that stops hearing from Kafka denies sensitive capabilities
// after its staleness bound, and keeps allowing the others. The broker is a real one of
// this test's own (the stack script with its own directory and ports), really stopped.

describe("enforcer fail-closed", () => {
  it("denies sensitive capabilities once the broker is gone for longer than the bound", { timeout: 240_000 }, async () => {
    const port = await freePort();
    const stackEnv = {
      ...process.env,
      VIGIL_STACK_DIR: mkdtempSync(`${tmpdir()}/vigil-failclosed-`),
      VIGIL_STACK_KAFKA_PORT: String(port),
      VIGIL_STACK_KAFKA_CONTROLLER_PORT: String(await freePort()),
      VIGIL_KAFKA_BROKERS: `127.0.0.1:${port}`,
    };
    const stack = (cmd: string) => spawnSync(process.execPath, [stackScript, cmd, "kafka"], { env: stackEnv, encoding: "utf8" });
    const up = stack("up");
    expect(up.status, up.stderr + up.stdout).toBe(0);
    // The topics exist before enforcers start (the processor or `vigil topics create` makes them).
    const admin = new kafkajs.Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureTopics(admin, loadConfig({ VIGIL_KAFKA_BROKERS: `127.0.0.1:${port}`, VIGIL_TOPIC_PARTITIONS: "1" }));
    await admin.disconnect();
    const enforcer = await createEnforcer({
      brokers: [`127.0.0.1:${port}`],
      acks: false,
      verify: await trustedKeys(),
      failClosed: { capabilities: ["payments.*", "secrets.*"], staleAfterMs: 2000 },
    });
    try {
      await enforcer.start();
      expect(enforcer.check("s1", "payments.send")).toEqual({ outcome: "allow" });
      expect(enforcer.stale).toBe(false);

      const down = stack("down");
      expect(down.status, down.stderr + down.stdout).toBe(0);
      const deadline = Date.now() + 30_000;
      while (!enforcer.stale && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(enforcer.stale).toBe(true);
      expect(enforcer.check("s1", "payments.send")).toMatchObject({ outcome: "deny", reason: expect.stringContaining("fail closed") });
      expect(enforcer.check("s1", "wiki.read")).toEqual({ outcome: "allow" });
    } finally {
      await Promise.race([enforcer.stop(), new Promise((r) => setTimeout(r, 5000))]);
      stack("down");
    }
  });
});
