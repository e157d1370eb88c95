import { describe, expect, it } from "vitest";
import { exited, replicatedScenarios, startProcessor } from "../support/processes.js";
import type { Seeded } from "../support/processes.js";
import { expectSameCommands } from "../support/same-commands.js";
import { loadConfig } from "../../src/config/config.js";
import type { Config } from "../../src/config/config.js";
import type { Command } from "../../src/protocol/index.js";
import { committedOffsets, endOffsets, isolatedEnv, jsonValues, readAll, seedTopic, untilProcessed } from "../support/live.js";
import { redisClusterNodes } from "../support/stack-env.js";

// Faults at scale, against the real broker and Redis (`npm run test:soak`). The demo's
// scenarios are replicated into ≥ 200,000 events with their own sessions, agents,
// principals and resources per replica, and each replica's events go to one partition, so
// every fact a decision uses (session, baselines, separation-of-duties ledger) lives on one
// partition and the command set does not depend on how partitions interleave. Each run's
// commands must equal an uninterrupted run's: the same ids, the same content, none missing,
// none extra (a repeat of the same command may appear; consumers de-duplicate on its id).
//   1. One processor, SIGKILLed at ≥ 20 random points and restarted each time; then the
//      same with its state on a three-master Redis Cluster (scripts/stack up --redis-cluster).
//   2. Three partitions: one processor, then a second and a third join (rebalances), one of
//      them is SIGKILLed, and a fourth joins, all mid-stream.

const EVENTS = 200_000;
const KILLS = 20;
const workload = replicatedScenarios;

const envFor = (name: string, partitions: number, extra: Record<string, string> = {}) =>
  isolatedEnv(name, {
    VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000",
    VIGIL_TOPIC_PARTITIONS: String(partitions),
    VIGIL_FETCH_MAX_BYTES_PER_PARTITION: "65536",
    ...extra,
  });

async function seed(env: Record<string, string>, messages: readonly Seeded[], partitions: number): Promise<Config> {
  const config = loadConfig(env);
  await seedTopic(config.topics.events, messages, partitions);
  return config;
}

const startChild = startProcessor;
const stopped = exited;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const committedTotal = async (config: Config) =>
  [...(await committedOffsets(config.kafka.groupId, config.topics.events)).values()].reduce((a, b) => a + Math.max(0, b), 0);

/** The commands of one uninterrupted processor over the same workload. */
async function reference(name: string, messages: readonly Seeded[], partitions: number): Promise<{ commands: Command[]; seconds: number }> {
  const env = envFor(name, partitions);
  const config = await seed(env, messages, partitions);
  const t0 = Date.now();
  const child = startChild(env);
  try {
    await untilProcessed(config.kafka.groupId, config.topics.events, 900_000);
  } finally {
    child.kill("SIGTERM");
    await stopped(child);
  }
  return { commands: jsonValues<Command>(await readAll(config.topics.commands, 120_000)), seconds: (Date.now() - t0) / 1000 };
}

/** The uninterrupted single-partition run, shared by the kill tests (one Redis or a cluster: the same commands either way). */
let singlePartition: Promise<{ messages: Seeded[]; clean: { commands: Command[]; seconds: number } }> | undefined;
const uninterrupted = () => {
  singlePartition ??= (async () => {
    const messages = workload(EVENTS, 1);
    return { messages, clean: await reference("soak-kill-clean", messages, 1) };
  })();
  return singlePartition;
};

describe("faults at scale (soak)", () => {
  it(`SIGKILL at ${KILLS}+ random points over ${EVENTS.toLocaleString("en")} events: the same commands as an uninterrupted run`, () =>
    killedAtRandom("soak-kill-crash", {}));

  it(`the same against a three-master Redis Cluster (VIGIL_REDIS_CLUSTER): the same commands`, () =>
    killedAtRandom("soak-kill-cluster", { VIGIL_REDIS_CLUSTER: redisClusterNodes.join(",") }));

  async function killedAtRandom(name: string, extra: Record<string, string>): Promise<void> {
    const { messages, clean } = await uninterrupted();
    const env = envFor(name, 1, extra);
    const config = await seed(env, messages, 1);
    const killedAt: number[] = [];
    const recoveries: number[] = [];
    let seed32 = 0x2545f491;
    const random = () => (seed32 = (seed32 * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const t0 = Date.now();
    while (killedAt.filter((o) => o > 0 && o < messages.length).length < KILLS) {
      const before = await committedTotal(config);
      if (before >= messages.length) break;
      const started = Date.now();
      const victim = startChild(env);
      // Until the restarted processor commits something new: its time to recover.
      while ((await committedTotal(config)) <= before && Date.now() - started < 60_000) await sleep(25);
      recoveries.push((Date.now() - started) / 1000);
      // Spread the kills over the stream: run a random while, then kill.
      await sleep(Math.floor(random() * ((clean.seconds * 1000) / KILLS)));
      victim.kill("SIGKILL");
      await stopped(victim);
      killedAt.push(await committedTotal(config));
    }
    const survivor = startChild(env);
    await untilProcessed(config.kafka.groupId, config.topics.events, 900_000);
    survivor.kill("SIGTERM");
    await stopped(survivor);
    const got = jsonValues<Command>(await readAll(config.topics.commands, 120_000));
    const midStream = killedAt.filter((o) => o > 0 && o < messages.length);
    process.stdout.write(
      `faults${extra.VIGIL_REDIS_CLUSTER ? " (Redis Cluster)" : ""}: ${messages.length} events, ${midStream.length} mid-stream SIGKILLs at committed offsets ${killedAt.join(", ")}; ` +
        `uninterrupted ${clean.seconds.toFixed(0)} s, interrupted ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
        `time to first commit after restart: median ${recoveries.sort((a, b) => a - b)[Math.floor(recoveries.length / 2)]?.toFixed(1)} s, max ${Math.max(...recoveries).toFixed(1)} s; ` +
        `${clean.commands.length} commands, ${got.length} records (${got.length - new Set(got.map((c) => c.commandId)).size} repeats)\n`,
    );
    expect(midStream.length).toBeGreaterThanOrEqual(KILLS);
    expectSameCommands(got, clean.commands);
  }

  it("two, then three processors in one group, one SIGKILLed and one added mid-stream: the same commands", async () => {
    const partitions = 3;
    const messages = workload(EVENTS, partitions);
    const clean = await reference("soak-group-clean", messages, partitions);
    const env = envFor("soak-group", partitions);
    const config = await seed(env, messages, partitions);
    const t0 = Date.now();
    const progress = async (share: number) => {
      while ((await committedTotal(config)) < messages.length * share && Date.now() - t0 < 900_000) await sleep(50);
    };
    const a = startChild(env);
    await progress(0.1);
    const b = startChild(env); // rebalance: two members
    await progress(0.3);
    const c = startChild(env); // three members
    await progress(0.5);
    a.kill("SIGKILL"); // its partitions move after the session timeout
    await stopped(a);
    await progress(0.65);
    const d = startChild(env); // and a new member joins
    const ends = await endOffsets(config.topics.events);
    expect([...ends.values()].reduce((x, y) => x + y, 0)).toBe(messages.length);
    await untilProcessed(config.kafka.groupId, config.topics.events, 900_000);
    for (const p of [b, c, d]) p.kill("SIGTERM");
    await Promise.all([b, c, d].map(stopped));
    const got = jsonValues<Command>(await readAll(config.topics.commands, 120_000));
    process.stdout.write(
      `rebalances: ${messages.length} events on ${partitions} partitions; uninterrupted ${clean.seconds.toFixed(0)} s, with 4 members joining and one killed ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
        `${clean.commands.length} commands, ${got.length} records\n`,
    );
    expectSameCommands(got, clean.commands);
  });
});
