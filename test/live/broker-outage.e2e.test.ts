import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import type { Message } from "kafkajs";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import { redisUrl, stackScript, uniqueName } from "../support/stack-env.js";
import { freePort, jsonValues, readAll, untilProcessed } from "../support/live.js";

// The broker goes away under a running processor: /readyz says so, and when the broker is
// back the processor resumes where it stopped; events published before and after the
// outage are all decided, none twice. A broker of this test's own (the stack script with
// its own directory and ports), really stopped and started again on the same data.

describe("broker outage", () => {
  it("is reported by /readyz and survived without losing events", { timeout: 240_000 }, async () => {
    const port = await freePort();
    const brokers = [`127.0.0.1:${port}`];
    const stackEnv = {
      ...process.env,
      VIGIL_STACK_DIR: mkdtempSync(`${tmpdir()}/vigil-outage-`),
      VIGIL_STACK_KAFKA_PORT: String(port),
      VIGIL_STACK_KAFKA_CONTROLLER_PORT: String(await freePort()),
      VIGIL_KAFKA_BROKERS: brokers.join(","),
    };
    const stack = (cmd: string) => spawnSync(process.execPath, [stackScript, cmd, "kafka"], { env: stackEnv, encoding: "utf8" });
    expect(stack("up").status).toBe(0);
    const id = uniqueName("outage");
    const env = {
      VIGIL_KAFKA_BROKERS: brokers.join(","),
      VIGIL_REDIS_URL: redisUrl,
      VIGIL_REDIS_PREFIX: `${id}:`,
      VIGIL_GROUP_ID: id,
      VIGIL_HTTP_PORT: "0",
      VIGIL_TOPIC_PARTITIONS: "1",
      VIGIL_LOG_LEVEL: "silent",
      VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000",
    };
    const config = loadConfig(env);
    const kafka = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 20 } });
    const send = async (messages: Message[]) => {
      const p = kafka.producer();
      await p.connect();
      await p.send({ topic: config.topics.events, messages, acks: -1 });
      await p.disconnect();
    };
    const secretsReach = (n: number): Message[] => [
      {
        key: `o-${n}`,
        value: JSON.stringify({
          eventId: `o-${n}#0`,
          type: "session.started",
          sessionId: `o-${n}`,
          time: "2026-11-28T09:00:00Z",
          agent: { id: "a" },
          principal: { id: "p" },
          intent: { goal: "read the wiki", capabilities: ["wiki.read"] },
        }),
      },
      {
        key: `o-${n}`,
        value: JSON.stringify({
          eventId: `o-${n}#1`,
          type: "action",
          sessionId: `o-${n}`,
          time: "2026-11-28T09:00:05Z",
          agent: { id: "a" },
          principal: { id: "p" },
          action: { capability: "secrets.read" },
          resource: { id: "prod/db", sensitivity: ["secret"] },
        }),
      },
    ];
    const ready = async (httpPort: number) => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status;
    const until = async (cond: () => Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      return cond();
    };
    const running = await startVigil(env);
    try {
      await send(secretsReach(1));
      expect(await until(async () => (await ready(running.httpPort)) === 200, 30_000)).toBe(true);

      expect(stack("down").status).toBe(0);
      expect(await until(async () => (await ready(running.httpPort)) === 503, 60_000)).toBe(true);

      expect(stack("up").status).toBe(0);
      await send(secretsReach(2));
      expect(await until(async () => (await ready(running.httpPort)) === 200, 90_000)).toBe(true);

      // Every event committed means every command published: then read them all.
      await untilProcessed(config.kafka.groupId, config.topics.events, 60_000, kafka);
      const commands = jsonValues<{ sessionId: string; commandId: string }>(await readAll(config.topics.commands, 30_000, kafka));
      expect([...new Set(commands.map((c) => c.sessionId))].sort()).toEqual(["o-1", "o-2"]);
      expect(new Set(commands.map((c) => c.commandId)).size).toBe(2);
    } finally {
      await Promise.race([running.stop(), new Promise((r) => setTimeout(r, 15_000))]);
      stack("down");
    }
  });
});
