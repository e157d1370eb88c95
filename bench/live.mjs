// The live half of `npm run bench`: the same pre-seeded topic read once by a no-op kafkajs
// consumer and once by `vigil start` (Redis state, commands out); the commands the live run
// published compared with an offline replay of the same events; and the time from producing
// an action to the enforcement SDK applying the command it causes, under a steady load.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import kafkajs from "kafkajs";
import { threadDelta } from "./threads.mjs";

const root = join(import.meta.dirname, "..");
const cli = join(root, "dist", "cli", "main.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

export const brokers = (process.env.VIGIL_KAFKA_BROKERS || "127.0.0.1:9092").split(",");
export const redisUrl = process.env.VIGIL_REDIS_URL || "redis://127.0.0.1:6379";
export const kafka = new kafkajs.Kafka({ brokers, clientId: "vigil-bench", logLevel: kafkajs.logLevel.NOTHING });

/** Creates `topic` and writes `messages` (with explicit partitions) through a batched producer, in order within each partition. */
export async function seed(topic, messages, partitions) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = now();
  // One sender per partition, each sending its partition's messages in order (requests in
  // flight to one partition could land out of order); the partitions go in parallel. A
  // request's record batch stays under the broker's message.max.bytes (1 MiB): at most 1,000
  // messages and 768 KB of values.
  const CHUNK = 1000;
  const CHUNK_BYTES = 768 * 1024;
  const byPartition = new Map();
  for (const m of messages) (byPartition.get(m.partition) ?? byPartition.set(m.partition, []).get(m.partition)).push(m);
  await Promise.all(
    [...byPartition.values()].map(async (list) => {
      for (let i = 0; i < list.length;) {
        let end = i;
        for (let bytes = 0; end < list.length && end - i < CHUNK && bytes + list[end].value.length <= CHUNK_BYTES; end++) bytes += list[end].value.length;
        await producer.send({ topic, acks: 1, messages: list.slice(i, Math.max(end, i + 1)) });
        i = Math.max(end, i + 1);
      }
    }),
  );
  await producer.disconnect();
  return { seconds: (now() - t0) / 1000 };
}

/** Reads the whole topic once with a no-op eachBatch consumer; events/s from its first batch to its last. */
export async function noopConsumer(topic, total) {
  const consumer = kafka.consumer({ groupId: `bench-noop-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let first;
  let last;
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      first ??= now();
      seen += batch.messages.length;
      const tail = batch.messages.at(-1);
      if (tail) resolveOffset(tail.offset);
      await heartbeat();
      if (seen >= total) {
        last = now();
        done();
      }
    },
  });
  await finished;
  await consumer.disconnect();
  return { eventsPerSec: Math.round(seen / ((last - first) / 1000)), seconds: (last - first) / 1000 };
}

/** How many events the group has committed on `topic`, over all partitions. */
export async function committed(groupId, topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Everything on a topic, as parsed JSON values. */
export async function readAll(topic) {
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
  await admin.disconnect();
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `bench-read-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const out = [];
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push(JSON.parse(message.value.toString("utf8")));
      if (out.length >= total) done();
    },
  });
  await Promise.race([finished, sleep(120_000)]);
  await consumer.disconnect();
  return out;
}

/** The environment of one isolated processor run (its own topics, group and Redis keys). */
export function runEnv(name, policyFile, partitions) {
  const id = `bench-${name}-${randomUUID().slice(0, 8)}`;
  return {
    VIGIL_KAFKA_BROKERS: brokers.join(","),
    VIGIL_REDIS_URL: redisUrl,
    VIGIL_TOPIC_PREFIX: `${id}.`,
    VIGIL_REDIS_PREFIX: `${id}:`,
    VIGIL_GROUP_ID: id,
    VIGIL_HTTP_PORT: "0",
    VIGIL_TOPIC_PARTITIONS: String(partitions),
    VIGIL_LOG_LEVEL: "warn",
    VIGIL_POLICY_FILE: policyFile,
  };
}

export function startProcessor(env, extraArgs = []) {
  const child = spawn(process.execPath, [...extraArgs, cli, "start"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  return { child, stderr: () => stderr };
}

export async function stopProcessor(p) {
  if (p.child.exitCode !== null) return;
  p.child.kill("SIGTERM");
  await Promise.race([new Promise((r) => p.child.once("exit", r)), sleep(30_000)]);
}

/**
 * `vigil start` over the pre-seeded topic: events/s in steady state, from its first commit
 * (what was committed then is left out) to the commit of the last event; and what the
 * processor used once warm (`usage`, from two scrapes: when a tenth of the events are
 * committed, and at the end): its CPU (vigil_process_process_cpu_seconds_total) and the events it decided
 * (vigil_events_processed_total) from its /metrics, its own Redis commands and the bytes of
 * its connections to Redis and the broker from bench/meter.mjs, and the Redis server's
 * INFO counters (shared with whatever else uses that Redis meanwhile).
 */
export async function liveRun(env, topic, total, nodeArgs = []) {
  // A port of its own, so its /metrics can be read at the end (the batch phases).
  const port = await freePort();
  const meterPort = await freePort();
  const p = startProcessor({ ...env, VIGIL_HTTP_PORT: String(port), VIGIL_BENCH_METER_PORT: String(meterPort) }, ["--import", meterUrl, ...nodeArgs]);
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl);
  const snapshot = async () => {
    const [metrics, meter, server] = await Promise.all([batchMetrics(port), meterSnapshot(meterPort), redisServerStats(redis)]);
    // `monotonicMicros`: CLOCK_MONOTONIC, the clock of V8's CPU profiles (bench/profile.mjs cuts the processor's profile to the window).
    return { at: now(), monotonicMicros: Number(process.hrtime.bigint() / 1000n), metrics, meter, server };
  };
  try {
    const deadline = now() + 30 * 60_000;
    let first;
    let base = 0;
    let atFirst;
    let atWarm;
    for (;;) {
      if (p.child.exitCode !== null) throw new Error(`vigil start exited (${p.child.exitCode}):\n${p.stderr()}`);
      const n = await committed(env.VIGIL_GROUP_ID, topic);
      if (first === undefined && n > 0) {
        first = now();
        base = n;
        atFirst = await snapshot();
      }
      // The usage window starts once a tenth of the events are committed: by then the
      // processor's code is compiled (a short run's first seconds spend as much CPU on V8's
      // compiler threads as on deciding) and its heap has grown.
      if (atFirst !== undefined && atWarm === undefined && n - base >= (total - base) / 10 && n < total) atWarm = await snapshot();
      if (n >= total) {
        const seconds = (now() - first) / 1000;
        // Steady state only, like the rate: the phases' time since the first commit.
        const atEnd = await snapshot();
        const phases = Object.fromEntries(
          Object.entries(atEnd.metrics.seconds).map(([k, v]) => [k, Math.round((v - (atFirst.metrics.seconds[k] ?? 0)) * 100) / 100]),
        );
        return { eventsPerSec: Math.round((total - base) / seconds), seconds, phases, usage: usage(atWarm ?? atFirst, atEnd, env) };
      }
      if (now() > deadline) throw new Error(`vigil start committed ${n} of ${total} events in 30 minutes`);
      await sleep(100);
    }
  } finally {
    redis.disconnect();
    await stopProcessor(p);
  }
}

const meterUrl = pathToFileURL(join(import.meta.dirname, "meter.mjs")).href;

/** bench/meter.mjs's counters inside the processor. */
async function meterSnapshot(port) {
  return await (await fetch(`http://127.0.0.1:${port}/`)).json();
}

/** The Redis server's own counters (every client's, not only the processor's). */
async function redisServerStats(redis) {
  const text = await redis.info("stats");
  const field = (name) => Number(text.match(new RegExp(`^${name}:(\\d+)`, "m"))?.[1] ?? 0);
  return { commands: field("total_commands_processed"), bytesIn: field("total_net_input_bytes"), bytesOut: field("total_net_output_bytes") };
}

/** The sum of every series of one metric in a Prometheus text exposition (0 when absent). */
export function metricSum(text, name) {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
  return sum;
}

/** What the processor used between two snapshots (see liveRun). */
function usage(a, b, env) {
  const redisPort = String(new URL(env.VIGIL_REDIS_URL).port || 6379);
  const brokerPorts = new Set(env.VIGIL_KAFKA_BROKERS.split(",").map((h) => h.slice(h.lastIndexOf(":") + 1)));
  const bytes = (snap, ports) => {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const [port, t] of Object.entries(snap.meter.sockets)) {
      if (!ports.has(port)) continue;
      bytesIn += t.bytesIn;
      bytesOut += t.bytesOut;
    }
    return { bytesIn, bytesOut };
  };
  const delta = (x, y) => Object.fromEntries(Object.keys(y).map((k) => [k, y[k] - (x[k] ?? 0)]));
  const byCommand = delta(a.meter.redis.byCommand, b.meter.redis.byCommand);
  const byKey = Object.fromEntries(
    Object.entries(b.meter.redis.byKey)
      .map(([k, v]) => [k, { count: v.count - (a.meter.redis.byKey[k]?.count ?? 0), chars: v.chars - (a.meter.redis.byKey[k]?.chars ?? 0) }])
      .filter(([, v]) => v.count > 0),
  );
  return {
    seconds: (b.at - a.at) / 1000,
    monotonicMicros: { from: a.monotonicMicros, to: b.monotonicMicros },
    events: b.metrics.events - a.metrics.events,
    cpuSeconds: b.metrics.cpuSeconds - a.metrics.cpuSeconds,
    threadCpuSeconds: threadDelta(a.meter.threads, b.meter.threads),
    gcSeconds: threadDelta(a.metrics.gcSeconds, b.metrics.gcSeconds),
    redis: {
      commands: b.meter.redis.commands - a.meter.redis.commands,
      byCommand: Object.fromEntries(Object.entries(byCommand).filter(([, n]) => n > 0)),
      byKey,
      roundTrips: b.metrics.redisRoundTrips - a.metrics.redisRoundTrips,
      ...delta(bytes(a, new Set([redisPort])), bytes(b, new Set([redisPort]))),
    },
    kafka: delta(bytes(a, brokerPorts), bytes(b, brokerPorts)),
    redisServer: delta(a.server, b.server),
    heapUsedBytes: b.metrics.heapUsedBytes,
    rssBytes: b.metrics.rssBytes,
    activeSessions: b.metrics.activeSessions,
    batches: b.metrics.count - a.metrics.count,
  };
}

/**
 * The Redis memory a run's keys take (MEMORY USAGE of every key under the prefix), by kind
 * of key (session, baseline, sod, log, ...): { kind: { keys, bytes } }.
 */
export async function redisFootprint(prefix) {
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl);
  const kinds = {};
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const k of keys) pipeline.memory("USAGE", k, "SAMPLES", "0");
      const answers = await pipeline.exec();
      keys.forEach((k, i) => {
        const kind = k.slice(prefix.length).split(/[:{]/)[0];
        const entry = (kinds[kind] ??= { keys: 0, bytes: 0 });
        entry.keys += 1;
        entry.bytes += Number(answers[i][1] ?? 0);
      });
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return kinds;
}

/**
 * The processor's batch metrics so far (vigil_batch_phase_seconds, vigil_batch_size): the
 * seconds spent in each phase, how many batches, their mean size, and the mean milliseconds
 * of each phase per batch; with its CPU seconds, events decided, Redis round trips, heap,
 * resident memory and active sessions.
 */
async function batchMetrics(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const seconds = {};
  const counts = {};
  for (const m of text.matchAll(/^vigil_batch_phase_seconds_(sum|count)\{phase="([a-z]+)"\} (\S+)$/gm))
    (m[1] === "sum" ? seconds : counts)[m[2]] = Number(m[3]);
  const size = Number(text.match(/^vigil_batch_size_sum (\S+)$/m)?.[1] ?? 0);
  const count = Number(text.match(/^vigil_batch_size_count (\S+)$/m)?.[1] ?? 0);
  const phaseMs = Object.fromEntries(Object.keys(seconds).map((k) => [k, counts[k] > 0 ? Math.round(((1000 * seconds[k]) / counts[k]) * 100) / 100 : 0]));
  return {
    seconds,
    count,
    meanSize: count > 0 ? Math.round((size / count) * 10) / 10 : 0,
    phaseMs,
    cpuSeconds: metricSum(text, "vigil_process_process_cpu_seconds_total"),
    events: metricSum(text, "vigil_events_processed_total"),
    redisRoundTrips: metricSum(text, "vigil_redis_duration_seconds_count"),
    heapUsedBytes: metricSum(text, "vigil_process_nodejs_heap_size_used_bytes"),
    rssBytes: metricSum(text, "vigil_process_process_resident_memory_bytes"),
    activeSessions: metricSum(text, "vigil_sessions_active"),
    // Main-thread garbage collection pauses by kind (minor = scavenges, major = mark-compact, incremental marking steps, weak callbacks).
    gcSeconds: Object.fromEntries(
      [...text.matchAll(/^vigil_process_nodejs_gc_duration_seconds_sum\{kind="([a-z]+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]),
    ),
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Time from producing an action to the enforcement SDK applying the command it causes,
 * with `rate` background events/s from `background` going through the same processor.
 * Every `probeEveryMs` a new session starts and reaches for a secret outside its intent,
 * which the shipped rules revoke at once.
 */
export async function latency(env, background, { rate, seconds, probeEveryMs }) {
  // A port of its own, so the processor's batch phases can be read before it stops.
  env = { ...env, VIGIL_HTTP_PORT: String(await freePort()) };
  const { createEnforcer } = await import(join(root, "dist", "sdk", "enforcer.js"));
  const { loadConfig } = await import(join(root, "dist", "config", "config.js"));
  const { publicJwks } = await import(join(root, "dist", "adapters", "signing.js"));
  const topic = `${env.VIGIL_TOPIC_PREFIX}vigil.events`;
  // Every topic first (the enforcer subscribes to the commands and status topics at once).
  const created = spawnSync(process.execPath, [cli, "topics", "create"], { env: { ...process.env, ...env }, encoding: "utf8" });
  if (created.status !== 0) throw new Error(`vigil topics create failed:\n${created.stderr}`);
  const p = startProcessor(env);
  const enforcer = await createEnforcer({
    brokers,
    topicPrefix: env.VIGIL_TOPIC_PREFIX,
    enforcerId: "bench-gateway",
    acks: false,
    // The processor's public keys (same configuration, so the same key file): every command is verified, as in production.
    verify: { jwks: await publicJwks(loadConfig({ ...process.env, ...env }).signing) },
  });
  const sentAt = new Map();
  const latencies = [];
  enforcer.on("change", (sessionId, _view, cause) => {
    const t0 = sentAt.get(sessionId);
    if (t0 === undefined || !("commandId" in cause)) return;
    latencies.push(now() - t0);
    sentAt.delete(sessionId);
  });
  await enforcer.start();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Wait until the processor has joined: a probe answered means it is consuming.
    const ready = async () => {
      const probe = `bench-warm-${randomUUID().slice(0, 8)}`;
      await sendProbe(producer, topic, probe, sentAt);
      for (let i = 0; i < 600 && sentAt.has(probe); i++) await sleep(100);
      if (sentAt.has(probe)) throw new Error(`the processor did not answer a probe within 60 s:\n${p.stderr()}`);
    };
    let t = now();
    await ready();
    const warmSeconds = (now() - t) / 1000;
    latencies.length = 0;
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const end = now() + seconds * 1000;
    let next = now();
    let bg = 0;
    let lastProbe = 0;
    let probes = 0;
    while (now() < end) {
      const batch = [];
      for (let i = 0; i < perTick; i++, bg++) batch.push(background[bg % background.length]);
      const sends = [producer.send({ topic, acks: 1, messages: batch })];
      if (now() - lastProbe >= probeEveryMs) {
        lastProbe = now();
        probes++;
        sends.push(sendProbe(producer, topic, `bench-probe-${probes}-${randomUUID().slice(0, 6)}`, sentAt));
      }
      await Promise.all(sends);
      next += tickMs;
      const wait = next - now();
      if (wait > 0) await sleep(wait);
    }
    // Drain: every probe is answered once the processor works through the queue, however slow
    // a busy machine makes it; give up only when answers stop coming (30 s without one) or
    // after two minutes.
    t = now();
    let lastAnswers = latencies.length;
    let lastProgress = now();
    while (sentAt.size > 0 && now() - t < 120_000 && now() - lastProgress < 30_000) {
      await sleep(50);
      if (latencies.length !== lastAnswers) [lastAnswers, lastProgress] = [latencies.length, now()];
    }
    const drainSeconds = (now() - t) / 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    const round = (x) => Math.round(x * 10) / 10;
    const { count, meanSize, phaseMs } = await batchMetrics(Number(env.VIGIL_HTTP_PORT));
    const batches = { count, meanSize, phaseMs };
    return {
      p50: round(percentile(sorted, 0.5)),
      p95: round(percentile(sorted, 0.95)),
      p99: round(percentile(sorted, 0.99)),
      probes,
      answered: latencies.length,
      backgroundEvents: bg,
      seconds,
      warmSeconds,
      drainSeconds,
      batches,
      env,
    };
  } finally {
    await producer.disconnect();
    await enforcer.stop();
    await stopProcessor(p);
  }
}

async function sendProbe(producer, topic, sessionId, sentAt) {
  const who = { agent: { id: "bench-agent" }, principal: { id: "bench-user" } };
  const time = new Date().toISOString();
  await producer.send({
    topic,
    acks: 1,
    messages: [
      {
        key: sessionId,
        value: JSON.stringify({
          eventId: `${sessionId}#0`,
          type: "session.started",
          sessionId,
          time,
          ...who,
          intent: { goal: "read the team wiki", capabilities: ["wiki.read"] },
        }),
      },
    ],
  });
  const action = {
    eventId: `${sessionId}#1`,
    type: "action",
    sessionId,
    time,
    ...who,
    action: { capability: "secrets.read", kind: "read" },
    resource: { id: "prod/db-password", sensitivity: ["secret"] },
  };
  sentAt.set(sessionId, now());
  await producer.send({ topic, acks: 1, messages: [{ key: sessionId, value: JSON.stringify(action) }] });
}

/** Deletes what the runs left behind: their topics and their Redis keys. */
export async function cleanup(envs) {
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => envs.some((e) => t.startsWith(e.VIGIL_TOPIC_PREFIX)));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl);
  for (const e of envs) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${e.VIGIL_REDIS_PREFIX}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  }
  redis.disconnect();
}
