import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { Config } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { InMemoryStateStore } from "../../src/app/in-memory-store.js";
import { createPipeline } from "../../src/app/pipeline.js";
import { replay } from "../../src/app/replay.js";
import { compilePolicy } from "../../src/core/index.js";
import type { Command } from "../../src/protocol/index.js";
import type { Admin } from "kafkajs";
import { isolatedEnv, jsonValues, kafka, readAll, untilProcessed } from "../support/live.js";

// A session snapshot's offset means something only in the log it was read from. As an
// operator would try it, against the real broker and Redis: a second deployment with its
// own topics sharing the Redis, the events topic deleted and recreated, and a session that
// moves partition after a partition increase. Each time the new events of the same session
// ids sit at offsets below the old snapshot's, and each time every one of them must be
// decided: the commands are those of one in-memory replay of the old events then the new.
// (Before snapshots recorded their topic, the first two cases silently skipped them all.)

const scenario = readFileSync(join(import.meta.dirname, "..", "..", "examples", "scenarios", "expense-self-approval.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean);
const benign = readFileSync(join(import.meta.dirname, "..", "..", "examples", "scenarios", "benign-day.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean);

/** The scenarios with every event id tagged by `run` (session ids kept): the same sessions, new events. */
const tagged = (lines: readonly string[], run: string): string[] =>
  lines.map((l) => {
    const e = JSON.parse(l) as { eventId: string; actionEventId?: string };
    e.eventId = `${e.eventId}@${run}`;
    if (e.actionEventId) e.actionEventId = `${e.actionEventId}@${run}`;
    return JSON.stringify(e);
  });

/** Each scenario session's first two events, and the rest: the same sessions, continued later. */
const bySessionIndex = (keep: (i: number) => boolean): string[] => {
  const seen = new Map<string, number>();
  return scenario.filter((l) => {
    const id = (JSON.parse(l) as { sessionId: string }).sessionId;
    const i = seen.get(id) ?? 0;
    seen.set(id, i + 1);
    return keep(i);
  });
};

/** The old run: 40 rounds of benign traffic, then the sessions' starts, so their snapshots sit at high offsets. */
const oldRun = (): string[] => [
  ...Array.from({ length: 40 }, (_, i) => tagged(benign, `fill${i}`)).flat(),
  ...tagged(
    bySessionIndex((i) => i < 2),
    "old",
  ),
];
/** The new run: the same sessions' later events (the self-approval among them), at offsets from 0. */
const newRun = (): string[] =>
  tagged(
    bySessionIndex((i) => i >= 2),
    "new",
  );

/** The commands the new events cause after the old ones, per one replay sharing all state. */
async function expectedAfter(before: readonly string[], after: readonly string[]): Promise<Command[]> {
  const policy = compilePolicy();
  const out: Command[] = [];
  const pipeline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  const lines = [...before, ...after].map((text, i) => ({ file: "mem", line: i + 1, text }));
  await replay(lines.slice(0, before.length), pipeline, { onCommand: () => {} });
  await replay(lines.slice(before.length), pipeline, { onCommand: (c) => out.push(c) });
  return out;
}

async function produceTo(topic: string, lines: readonly string[], partition?: number): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: lines.map((value) => ({
        key: (JSON.parse(value) as { sessionId: string }).sessionId,
        value,
        ...(partition !== undefined ? { partition } : {}),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Runs a processor until every event on the events topic is committed; returns the commands it published. */
async function processAll(env: Record<string, string>, config: Config, before: () => Promise<void> = async () => {}): Promise<Command[]> {
  let running: Running | undefined;
  try {
    running = await startVigil(env);
    await before();
    await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
    return jsonValues<Command>(await readAll(config.topics.commands));
  } finally {
    await running?.stop();
  }
}

const ids = (cs: readonly Command[]) => cs.map((c) => c.commandId);

describe("snapshot offsets are per topic and partition (live)", () => {
  it("a second deployment with other topics and the same Redis decides every event of the same session ids", async () => {
    const a = isolatedEnv("log-a");
    const b = { ...isolatedEnv("log-b"), VIGIL_REDIS_PREFIX: a.VIGIL_REDIS_PREFIX as string };
    const [ca, cb] = [loadConfig(a), loadConfig(b)];
    const [before, after] = [oldRun(), newRun()];

    await processAll(a, ca, () => produceTo(ca.topics.events, before));
    const seenByB = await processAll(b, cb, () => produceTo(cb.topics.events, after));
    const expected = await expectedAfter(before, after);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(seenByB)).toEqual(ids(expected));
  });

  /** The old run, then `change` to the topic with the processor stopped, then the new run: the commands the new run published. */
  async function acrossTopicChange(name: string, change: (admin: Admin, config: Config) => Promise<void>, partition?: number) {
    const env = isolatedEnv(name);
    const config = loadConfig(env);
    const [before, after] = [oldRun(), newRun()];
    await processAll(env, config, () => produceTo(config.topics.events, before));
    const firstCommands = (await readAll(config.topics.commands)).length;
    const admin = kafka().admin();
    await admin.connect();
    try {
      await change(admin, config);
    } finally {
      await admin.disconnect();
    }
    const all = await processAll(env, config, () => produceTo(config.topics.events, after, partition));
    const expected = await expectedAfter(before, after);
    expect(expected.length).toBeGreaterThan(0);
    return { got: ids(all.slice(firstCommands)), expected: ids(expected) };
  }

  it("the events topic deleted and recreated: its events from offset 0 are all decided", async () => {
    const { got, expected } = await acrossTopicChange("log-recreated", async (admin, config) => {
      await admin.deleteTopics({ topics: [config.topics.events] });
      // The broker deletes asynchronously: create until it accepts the name again.
      for (let i = 0; ; i++) {
        try {
          await admin.createTopics({ topics: [{ topic: config.topics.events, numPartitions: 1 }], waitForLeaders: true });
          const meta = await admin.fetchTopicOffsets(config.topics.events);
          if (meta.every((p) => p.high === "0")) break;
        } catch (e) {
          if (i > 100) throw e;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    expect(got).toEqual(expected);
  });

  it("a session moved to a new partition after a partition increase: its events there are all decided", async () => {
    // The new events land on partition 1, at offsets below the snapshots taken on partition 0.
    const { got, expected } = await acrossTopicChange(
      "log-moved",
      (admin, config) => admin.createPartitions({ topicPartitions: [{ topic: config.topics.events, count: 2 }] }).then(() => undefined),
      1,
    );
    expect(got).toEqual(expected);
  });
});
