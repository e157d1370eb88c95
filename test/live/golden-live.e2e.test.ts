import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Message } from "kafkajs";
import { AgentEvent, Command, SessionStatus } from "../../src/protocol/index.js";
import { eventToAvro, statusFromAvro } from "../../src/codec/avro-codec.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import { brokers } from "../support/stack-env.js";
import { loadConfig } from "../../src/config/config.js";
import type { Running } from "../../src/main.js";
import { registerSchemas, schemaRegistry } from "../../src/adapters/schema-registry.js";
import { startVigil } from "../../src/main.js";
import { replayCommands } from "../support/expected-commands.js";
import { collect, isolatedEnv, jsonValues, produce, readAll, trustedKeys, untilProcessed, withRegistry } from "../support/live.js";

// The live processor against the real broker, registry and Redis: the golden scenarios
// published to vigil.events (once as JSON, once as registry Avro) yield exactly the
// commands `vigil replay` prints for the same files. One partition, so that cross-session
// facts (separation of duties) see events in file order, as replay does.

const dir = join(import.meta.dirname, "..", "..", "examples", "scenarios");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".jsonl"))
  .sort()
  .map((f) => join(dir, f));
const lines = files.flatMap((f) =>
  readFileSync(f, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== ""),
);
const events = lines.map((l) => AgentEvent.parse(JSON.parse(l)));

async function runScenario(env: Record<string, string>, encode: (e: AgentEvent, line: string) => Promise<Message>) {
  const config = loadConfig(env);
  const expected = await replayCommands(files);
  let running: Running | undefined;
  try {
    running = await startVigil(env);
    const messages: Message[] = [];
    for (const [i, e] of events.entries()) messages.push(await encode(e, lines[i] as string));
    await produce(config.topics.events, messages);
    // Nothing more may follow: once every event is committed, every command is published.
    await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
    const all = await readAll(config.topics.commands);
    return { expected, all };
  } finally {
    await running?.stop();
  }
}

describe("live processor: golden scenarios through Kafka equal `vigil replay`", () => {
  it("JSON events in, JSON commands out, the same as replay", async () => {
    const { expected, all } = await runScenario(isolatedEnv("golden-json"), async (e, line) => ({ key: e.sessionId, value: line }));
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(jsonValues<Command>(all)).toEqual(expected);
  });

  it("registry Avro events in, Avro commands out, decoding to the same commands as replay", async () => {
    const env = withRegistry(isolatedEnv("golden-avro"));
    const config = loadConfig(env);
    const registry = schemaRegistry(config.registryUrl as string);
    const ids = await registerSchemas(registry, config);
    const { expected, all } = await runScenario(env, async (e) => ({ key: e.sessionId, value: await registry.encode(ids.events, eventToAvro(e)) }));
    expect(all.every((m) => m.value?.[0] === 0)).toBe(true);
    const { commandFromAvro } = await import("../../src/codec/avro-codec.js");
    const decoded = await Promise.all(all.map(async (m) => Command.parse(commandFromAvro(await registry.decode(m.value as Buffer)))));
    expect(decoded).toEqual(expected);

    // Statuses are Avro too, and an enforcer given the registry starts from them.
    const sessions = new Set(events.map((e) => e.sessionId));
    const statuses = await collect(config.topics.sessionStatus, (m) => new Set(m.map((x) => x.key)).size >= sessions.size, 30_000);
    expect(statuses.every((m) => m.value?.[0] === 0)).toBe(true);
    const decodedStatuses = await Promise.all(statuses.map(async (m) => SessionStatus.parse(statusFromAvro(await registry.decode(m.value as Buffer)))));
    expect(decodedStatuses.find((s) => s.sessionId === "code-1")?.status).toBe("revoked");
    const enforcer = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, registry, acks: false, verify: await trustedKeys(env) });
    try {
      await enforcer.start();
      expect(enforcer.check("exp-1", "expense.approve", "ER-1042").outcome).toBe("deny");
      expect(enforcer.check("code-1", "repo.read").outcome).toBe("deny");
      expect(enforcer.check("exp-3", "expense.approve", "ER-1042").outcome).toBe("allow");
    } finally {
      await enforcer.stop();
    }
  });
});
