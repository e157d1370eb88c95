import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { Config } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { Command } from "../../src/protocol/index.js";
import { replayLineCommands } from "../support/expected-commands.js";
import { replicatedScenarios } from "../support/processes.js";
import type { Seeded } from "../support/processes.js";
import { isolatedEnv, jsonValues, kafka, metric, readAll, untilProcessed } from "../support/live.js";
import { redisUrl } from "../support/stack-env.js";

// Redis loses data; the log still has it. Against the real broker and Redis, one processor
// (its own Redis prefix stands for a Redis of its own): its state is lost once while it
// runs (every key deleted, as FLUSHALL would) and once while it is stopped (the keys put
// back as they were two phases earlier, as a restart from an older dump would). Each time
// the processor must notice, rebuild from the log and decide every later event as if
// nothing had happened: its commands are exactly those of one in-memory replay of all the
// events, none missing, none extra, none twice (a rebuild publishes nothing). The
// scenarios' sessions straddle each loss, so a processor that did not rebuild would decide
// their later events without their history (the separation-of-duties ledger above all).
// `npm run test:soak` runs the same at 200,000 events with a real redis-server restarted,
// flushed and brought back from an older dump.

const EVENTS = 6_000;

async function produce(config: Config, messages: readonly Seeded[]): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic: config.topics.events, acks: -1, messages: messages.slice(i, i + 1000) });
  } finally {
    await producer.disconnect();
  }
}

/** Every key under the prefix with its value and TTL (DUMP/PTTL), to put back later. */
async function dump(redis: Redis, prefix: string): Promise<[string, Buffer, number][]> {
  const keys = await redis.keys(`${prefix}*`);
  return Promise.all(keys.map(async (k) => [k, (await redis.dumpBuffer(k)) as Buffer, await redis.pttl(k)] as [string, Buffer, number]));
}
async function forget(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}
async function restore(redis: Redis, prefix: string, saved: readonly [string, Buffer, number][]): Promise<void> {
  await forget(redis, prefix);
  for (const [k, v, ttl] of saved) await redis.restore(k, ttl > 0 ? ttl : 0, v, "REPLACE");
}

const rebuiltEvents = (running: Running) => metric(running.httpPort, "vigil_state_rebuilt_events_total");

describe("Redis loses data mid-stream (live)", () => {
  it("state flushed while running, and brought back from an older dump while stopped: rebuilt from the log, the same commands", async () => {
    const env = isolatedEnv("redis-loss", { VIGIL_TOPIC_PARTITIONS: "1", VIGIL_FETCH_MAX_BYTES_PER_PARTITION: "16384" });
    const config = loadConfig(env);
    const prefix = config.redis.prefix;
    const messages = replicatedScenarios(EVENTS, 1);
    const phase = (i: number) => messages.slice((i * messages.length) / 4, ((i + 1) * messages.length) / 4);
    const redis = new Redis(redisUrl);
    let running: Running | undefined;
    try {
      running = await startVigil(env);
      await produce(config, phase(0));
      await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
      const older = await dump(redis, prefix);
      expect(older.length).toBeGreaterThan(100);

      await produce(config, phase(1));
      await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
      // Lost while running: the processor's next batch finds no recorded position and re-reads the log from its start.
      await forget(redis, prefix);
      await produce(config, phase(2));
      await untilProcessed(config.kafka.groupId, config.topics.events, 90_000);
      const rebuiltOnce = await rebuiltEvents(running);
      expect(rebuiltOnce).toBe(phase(0).length + phase(1).length);
      await running.stop();
      running = undefined;

      // Lost while stopped: Redis comes back with the state of two phases ago.
      await restore(redis, prefix, older);
      running = await startVigil(env);
      await produce(config, phase(3));
      await untilProcessed(config.kafka.groupId, config.topics.events, 90_000);
      expect(await rebuiltEvents(running)).toBe(phase(1).length + phase(2).length);
    } finally {
      await running?.stop();
      await forget(redis, prefix);
      redis.disconnect();
    }
    const got = jsonValues<Command>(await readAll(config.topics.commands));
    const want = await replayLineCommands(messages.map((m) => m.value));
    expect(want.length).toBeGreaterThan(100);
    expect(got.map((c) => c.commandId)).toEqual(want.map((c) => c.commandId));
    expect(got).toEqual(want);
  });
});
