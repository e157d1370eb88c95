import { describe, expect, it } from "vitest";
import { exited, scenarioLines, startProcessor } from "../support/processes.js";
import { loadConfig } from "../../src/config/config.js";
import type { Command } from "../../src/protocol/index.js";
import { committedOffsets, isolatedEnv, jsonValues, kafka, produce, readAll, untilProcessed } from "../support/live.js";

// Nothing lost, nothing doubled: a pre-seeded topic is processed once without
// interruption and once while the processor is SIGKILLed at random points and restarted.
// The set of command ids that reaches vigil.commands must be the same (a repeat may
// appear, carrying the same id and content), and every command must have been published.

const templates = scenarioLines();
const REPLICAS = 120;
const KILLS = 10;

/** The golden scenarios replicated with distinct session, event and resource ids: ~5,400 events. */
function workload(): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let r = 0; r < REPLICAS; r++) {
    for (const line of templates) {
      const e = JSON.parse(line) as { sessionId: string; eventId: string; resource?: { id?: string } };
      e.sessionId = `${e.sessionId}-r${r}`;
      e.eventId = `${e.eventId}-r${r}`;
      if (e.resource?.id) e.resource.id = `${e.resource.id}-r${r}`;
      out.push({ key: e.sessionId, value: JSON.stringify(e) });
    }
  }
  return out;
}

const envFor = (name: string) => isolatedEnv(name, { VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000", VIGIL_FETCH_MAX_BYTES_PER_PARTITION: "8192" });
const startChild = startProcessor;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The group's committed offset on the (single-partition) events topic, -1 before its first commit. */
const committed = async (groupId: string, topic: string): Promise<number> => (await committedOffsets(groupId, topic)).get(0) ?? -1;

async function seed(env: Record<string, string>, messages: { key: string; value: string }[]) {
  const config = loadConfig(env);
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: config.topics.events, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  for (let i = 0; i < messages.length; i += 500) await produce(config.topics.events, messages.slice(i, i + 500));
  return config;
}

const stopped = exited;

describe("crash safety", () => {
  it(`SIGKILL at ${KILLS}+ random points: the same command ids as an uninterrupted run`, { timeout: 600_000 }, async () => {
    const messages = workload();
    // Uninterrupted run.
    const cleanEnv = envFor("kill-clean");
    const clean = await seed(cleanEnv, messages);
    const child = startChild(cleanEnv);
    await untilProcessed(clean.kafka.groupId, clean.topics.events, 180_000);
    child.kill("SIGTERM");
    await stopped(child);
    const reference = jsonValues<Command>(await readAll(clean.topics.commands));
    expect(reference.length).toBeGreaterThan(REPLICAS * 5);

    // Interrupted run.
    const crashEnv = envFor("kill-crash");
    const crash = await seed(crashEnv, messages);
    const killedAt: number[] = [];
    let seed32 = 0x9e3779b9;
    const random = () => (seed32 = (seed32 * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    for (let k = 0; k < KILLS * 3 && killedAt.filter((o) => o > 0 && o < messages.length).length < KILLS; k++) {
      const victim = startChild(crashEnv);
      const before = await committed(crash.kafka.groupId, crash.topics.events);
      // Wait for progress (or a random moment of the start-up), then a random delay more.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await committed(crash.kafka.groupId, crash.topics.events)) <= before && random() < 0.97) await sleep(50);
      await sleep(Math.floor(random() * 400));
      victim.kill("SIGKILL");
      await stopped(victim);
      killedAt.push(await committed(crash.kafka.groupId, crash.topics.events));
      if (killedAt[killedAt.length - 1] === messages.length) break;
    }
    const survivor = startChild(crashEnv);
    await untilProcessed(crash.kafka.groupId, crash.topics.events, 180_000);
    survivor.kill("SIGTERM");
    await stopped(survivor);
    const got = jsonValues<Command>(await readAll(crash.topics.commands));

    const midStream = killedAt.filter((o) => o > 0 && o < messages.length);
    expect(midStream.length, `kill points (committed offset at each kill): ${killedAt.join(", ")}`).toBeGreaterThanOrEqual(KILLS);
    const byId = new Map(reference.map((c) => [c.commandId, c]));
    expect(new Set(got.map((c) => c.commandId))).toEqual(new Set(byId.keys()));
    for (const c of got) expect(c).toEqual(byId.get(c.commandId));
  });
});

describe("graceful stop", () => {
  it("SIGTERM finishes, commits, leaves the group and exits 0", { timeout: 120_000 }, async () => {
    const env = { ...envFor("sigterm"), VIGIL_LOG_LEVEL: "info" };
    const messages = workload().slice(0, 300);
    const config = await seed(env, messages);
    const child = startChild(env);
    let logs = "";
    child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
    await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(logs).toContain('"msg":"stopped"');
    const admin = kafka().admin();
    await admin.connect();
    const group = (await admin.describeGroups([config.kafka.groupId])).groups[0];
    await admin.disconnect();
    expect(group?.members ?? []).toEqual([]);
  });
});
