#!/usr/bin/env node
// `npm run bench`: Vigil's speed, measured side by side in one run, as one JSON object on
// stdout (a readable table on stderr):
//   - coreReplayEventsPerSec: the decision pipeline alone on pre-decoded events of the v2
//     traces (tool outputs included), one core, in memory, median of 5; and
//     coreEndToEndEventsPerSec (decode + validate + decide); coreOverDecode = replay /
//     decode-and-validate, the same events in the same run;
//   - cpuMicrosPerEvent: process.cpuUsage() per event around the decoding, the core replay
//     (its runs after the first: compiled code), the offline replay of the live workload
//     (decode + decide, the live run's own events) and, for the live processor, its
//     process_cpu_seconds_total from a tenth of its events on to the end (compiled code too);
//   - heapBytesPerSession: heap per open session with 100k sessions held (bench/heap.mjs);
//   - noopConsumerEventsPerSec and liveEventsPerSec: one pre-seeded topic (≥ 500k events of
//     the traces under fresh ids, 6 partitions, 300 B–2 KB each) read once by a no-op
//     kafkajs eachBatch consumer and once by `vigil start` (Redis state, commands out);
//     liveRatio = live / no-op; liveOverCore = live / core end to end; liveCpuOverCore =
//     the processor's CPU per event / the core replay's;
//   - sizing: per-event costs of the live run (CPU, events/s per core, the processor's own
//     Redis commands and bytes and broker bytes, counted inside it by bench/meter.mjs), memory
//     per session (heap and Redis), partitions per processor, and `deployment`: what 100,000
//     sessions at one call a second need at those costs (bench/report.mjs);
//   - commandsExpected / commandsSeen: the live run published exactly the commands an
//     offline replay of the same events decides (a fast wrong answer does not count);
//   - livePhaseSeconds: where the live run's time went, by batch phase (decode, decide,
//     publish, persist, commit), read from the processor's vigil_batch_phase_seconds;
//   - latencyMs {p50, p95, p99}: from producing an action to the enforcement SDK applying
//     the command it causes, with 5k events/s going through the same processor;
//   - latencyFloorMs {p50, p95, p99}: the same probes at 100 events/s, where nothing queues;
//     with each run's batches (count, mean size, mean ms per phase) to show what a batch costs;
//   - mcpGatewayLatencyMs: an MCP client's calls at 100/s to a stdio server, directly and
//     through `vigil mcp` with the processor deciding each call (bench/mcp/latency.mjs):
//     p50 / p95 / p99 of both, and what the gateway adds.
// The policy is generated from the benchmark's tool catalog (bench/policies/agentdojo.yaml)
// so every detection signal runs. The live parts need the local stack (npm run stack:up;
// `npm run bench` starts it). --quick runs everything smaller (under two minutes);
// --core-only skips the live parts.
//   node bench/run.mjs [--quick] [--core-only] [--input <file in the bench dir>] [--policy <file>]
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { threadCpu, threadDelta } from "./threads.mjs";
import { join } from "node:path";
import { benchDir } from "./split.mjs";
import { decodeLine } from "../dist/app/line-decoder.js";
import { createPipeline } from "../dist/app/pipeline.js";
import { InMemoryStateStore } from "../dist/app/in-memory-store.js";
import { loadPolicy } from "../dist/adapters/policy-file.js";
import { interleave, workload } from "./workload.mjs";
import { TARGETS, coreRatios, cpuMicrosPerEvent, liveRatios, perEvent, project, rows, sizing } from "./report.mjs";

let dir;
try {
  dir = benchDir();
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const quick = process.argv.includes("--quick");
const coreOnly = process.argv.includes("--core-only");
const input = arg("--input", "agentdojo-gpt-4o-v2.jsonl");
const policyFile = arg("--policy", join(import.meta.dirname, "policies", "agentdojo.yaml"));
const file = join(dir, input);
const PARTITIONS = 6;
const sizes = quick
  ? { scaleOutEvents: 20_000, runs: 3, heapSessions: 20_000, liveEvents: 60_000, spreadEvents: 60_000, latencySeconds: 10, floorSeconds: 5, mcpCalls: 300 }
  : {
      scaleOutEvents: 60_000,
      runs: 5,
      heapSessions: 100_000,
      liveEvents: 500_000,
      spreadEvents: 130_000,
      latencySeconds: 30,
      floorSeconds: 10,
      mcpCalls: 2000,
    };

const started = performance.now();
const say = (msg) => process.stderr.write(`[bench] ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${msg}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const policy = loadPolicy(policyFile);

// 1. The core, one thread, in memory.
say(`core: ${input}, ${sizes.runs} runs`);
const lines = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const decodeRuns = [];
let events = [];
const decodeCpu = process.cpuUsage();
for (let r = 0; r < sizes.runs; r++) {
  const t0 = process.hrtime.bigint();
  events = lines
    .map((l) => decodeLine(l))
    .filter((d) => d.ok === true)
    .map((d) => d.event);
  decodeRuns.push(ms(t0));
}
const decodeCpuUsed = process.cpuUsage(decodeCpu);
const pipelineRuns = [];
let replayCpu;
let replayThreads;
for (let r = 0; r < sizes.runs; r++) {
  // CPU from the second run on: the code compiled, as in the live run's measured window.
  if (r === 1) [replayCpu, replayThreads] = [process.cpuUsage(), threadCpu()];
  const pipeline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  const t0 = process.hrtime.bigint();
  for (const e of events) pipeline.handle(e);
  pipelineRuns.push(ms(t0));
}
const replayCpuUsed = process.cpuUsage(replayCpu);
const replayThreadsUsed = threadDelta(replayThreads, threadCpu());
const decodeMs = median(decodeRuns);
const pipelineMs = median(pipelineRuns);
const result = {
  benchmark: "vigil",
  quick,
  input,
  policy: policyFile.replace(`${join(import.meta.dirname, "..")}/`, ""),
  node: process.version,
  coreEvents: events.length,
  coreResults: events.filter((e) => e.type === "action.result").length,
  coreDecodeValidateEventsPerSec: Math.round(events.length / (decodeMs / 1000)),
  coreReplayEventsPerSec: Math.round(events.length / (pipelineMs / 1000)),
  coreEndToEndEventsPerSec: Math.round(events.length / ((decodeMs + pipelineMs) / 1000)),
};
Object.assign(result, coreRatios(result));
const decodeMicros = cpuMicrosPerEvent(decodeCpuUsed, sizes.runs * events.length);
const replayMicros = cpuMicrosPerEvent(replayCpuUsed, (sizes.runs - 1) * events.length);
result.cpuMicrosPerEvent = {
  decodeValidate: decodeMicros,
  coreReplay: replayMicros,
  coreEndToEnd: Math.round((decodeMicros + replayMicros) * 10) / 10,
  // The core replay's CPU on the main thread and on the others (V8's garbage collection helpers), bench/threads.mjs.
  coreReplayByThread: Object.fromEntries(
    Object.entries(replayThreadsUsed).map(([k, v]) => [k, Math.round((1e7 * v) / ((sizes.runs - 1) * events.length)) / 10]),
  ),
};

// 2. Heap per session, in a process of its own (--expose-gc, nothing else on its heap).
say(`heap: ${sizes.heapSessions} open sessions`);
const heap = spawnSync(process.execPath, ["--expose-gc", join(import.meta.dirname, "heap.mjs"), file, policyFile, String(sizes.heapSessions)], {
  encoding: "utf8",
});
if (heap.status !== 0) throw new Error(`bench/heap.mjs failed:\n${heap.stderr}`);
const heapResult = JSON.parse(heap.stdout);
result.heapSessions = heapResult.sessions;
result.heapBytesPerSession = heapResult.heapBytesPerSession;

// 3. The live path against the local stack.
if (!coreOnly) {
  const live = await import("./live.mjs");
  const messages = workload(file, sizes.liveEvents, PARTITIONS);
  const env = live.runEnv("live", policyFile, PARTITIONS);
  const envs = [env];
  const topic = `${env.VIGIL_TOPIC_PREFIX}vigil.events`;
  say(`live: seeding ${messages.length} events into ${topic} (${PARTITIONS} partitions)`);
  const seeded = await live.seed(topic, messages, PARTITIONS);
  say(`live: seeded in ${seeded.seconds.toFixed(1)} s; no-op consumer`);
  const noop = await live.noopConsumer(topic, messages.length);
  say(`live: no-op ${noop.eventsPerSec} events/s; offline replay of the same events`);
  const offline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  const expected = [];
  const offlineCpu = process.cpuUsage();
  for (const m of messages) {
    const decoded = decodeLine(m.value);
    if (decoded.ok === true) for (const c of offline.handle(decoded.event).commands) expected.push(c);
  }
  result.cpuMicrosPerEvent.offlineSameEvents = cpuMicrosPerEvent(process.cpuUsage(offlineCpu), messages.length);
  say(`live: ${expected.length} commands expected; vigil start`);
  const run = await live.liveRun(env, topic, messages.length);
  const footprint = await live.redisFootprint(env.VIGIL_REDIS_PREFIX);
  const seen = await live.readAll(`${env.VIGIL_TOPIC_PREFIX}vigil.commands`);
  const key = (c) => JSON.stringify(c);
  const want = expected.map(key).sort();
  const got = seen.map(key).sort();
  let mismatches = 0;
  for (let i = 0; i < Math.max(want.length, got.length); i++) if (want[i] !== got[i]) mismatches++;
  const dump = arg("--dump", undefined);
  if (dump !== undefined && mismatches > 0) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dump, "expected.jsonl"), `${want.join("\n")}\n`);
    writeFileSync(join(dump, "seen.jsonl"), `${got.join("\n")}\n`);
    say(`live: commands differ; expected.jsonl and seen.jsonl written to ${dump}`);
  }
  Object.assign(result, {
    liveEvents: messages.length,
    livePartitions: PARTITIONS,
    seedSeconds: Math.round(seeded.seconds * 10) / 10,
    noopConsumerEventsPerSec: noop.eventsPerSec,
    liveEventsPerSec: run.eventsPerSec,
    liveRatio: Math.round((run.eventsPerSec / noop.eventsPerSec) * 1000) / 1000,
    commandsExpected: expected.length,
    commandsSeen: seen.length,
    commandsMatch: mismatches === 0,
    // Where the live run's time went (steady state, seconds summed over its batches; vigil_batch_phase_seconds).
    livePhaseSeconds: run.phases,
  });
  result.cpuMicrosPerEvent.live = Math.round((1e7 * run.usage.cpuSeconds) / run.usage.events) / 10;
  result.cpuMicrosPerEvent.liveByThread = Object.fromEntries(
    Object.entries(run.usage.threadCpuSeconds).map(([k, v]) => [k, Math.round((1e7 * v) / run.usage.events) / 10]),
  );
  Object.assign(result, liveRatios(result, run.usage));
  const machine = {
    date: new Date().toISOString().slice(0, 10),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    sharedWith: "the broker, the schema registry and Redis run on the same cores",
  };
  result.sizing = sizing(result, run.usage, footprint, machine);
  // The same events again, each partition's sessions spread out (one event per session a
  // round): batches then hold about one event per session, as 100,000 sessions making a call
  // a second would, and state is loaded and written for nearly every event. The deployment
  // is sized from this run.
  const spread = interleave(sizes.spreadEvents === sizes.liveEvents ? messages : workload(file, sizes.spreadEvents, PARTITIONS));
  const spreadEnv = live.runEnv("spread", policyFile, PARTITIONS);
  const spreadTopic = `${spreadEnv.VIGIL_TOPIC_PREFIX}vigil.events`;
  say(`live: ${run.eventsPerSec} events/s; sizing: the same events with sessions spread out, seeding ${spreadTopic}`);
  await live.seed(spreadTopic, spread, PARTITIONS);
  const spreadRun = await live.liveRun(spreadEnv, spreadTopic, spread.length);
  result.sizing.spread = { eventsPerSec: spreadRun.eventsPerSec, ...perEvent(spreadRun.usage) };
  result.sizing.deployment = project(result.sizing.spread, result.sizing.memory);
  envs.push(spreadEnv);
  say(`sizing: spread out ${spreadRun.eventsPerSec} events/s; latency at 5k events/s for ${sizes.latencySeconds} s`);
  const lat = await live.latency(live.runEnv("latency", policyFile, PARTITIONS), messages, { rate: 5000, seconds: sizes.latencySeconds, probeEveryMs: 100 });
  result.latencyMs = { p50: lat.p50, p95: lat.p95, p99: lat.p99 };
  result.latencyProbes = { sent: lat.probes, answered: lat.answered, backgroundEvents: lat.backgroundEvents };
  result.latencyBatches = lat.batches;
  say(`latency: warm-up ${lat.warmSeconds.toFixed(1)} s, drain ${lat.drainSeconds.toFixed(1)} s; the floor: 100 events/s for ${sizes.floorSeconds} s`);
  // The same probes with almost no traffic: what the path costs when nothing queues (one
  // event a batch, each batch its round trips to Redis and the broker).
  const floor = await live.latency(live.runEnv("latency-floor", policyFile, PARTITIONS), messages, {
    rate: 100,
    seconds: sizes.floorSeconds,
    probeEveryMs: 100,
  });
  result.latencyFloorMs = { p50: floor.p50, p95: floor.p95, p99: floor.p99 };
  result.latencyFloorBatches = floor.batches;
  say(`latency floor: warm-up ${floor.warmSeconds.toFixed(1)} s; the MCP gateway, ${sizes.mcpCalls} calls at 100/s, direct and through vigil mcp`);
  const { mcpGatewayLatency } = await import("./mcp/latency.mjs");
  const mcpEnv = live.runEnv("mcp", policyFile, 1);
  result.mcpGatewayLatencyMs = await mcpGatewayLatency(mcpEnv, { calls: sizes.mcpCalls, rate: 100, warmup: 100 });
  say("mcp gateway measured; scale-out: one processor against three with a kill and a stop");
  // Many processors, as correct as one (bench/scale-out.mjs): the bench's own workload
  // (principal-partitioned, an agent per principal), decided by one processor and by three
  // in one group with one SIGKILLed and one SIGTERMed mid-run.
  const { scaleOut } = await import("./scale-out.mjs");
  const scaled = await scaleOut({
    messages: workload(file, sizes.scaleOutEvents, PARTITIONS),
    partitions: PARTITIONS,
    policyFile,
    instances: 3,
    kills: 1,
    log: say,
  });
  result.scaleOut = {
    instances: scaled.instances,
    events: scaled.events,
    restarts: scaled.restarts,
    commandsEqual: scaled.commandsEqual,
    baselinesEqual: scaled.baselinesEqual,
    ledgerEqual: scaled.ledgerEqual,
    countsEqual: scaled.countsEqual,
    commands: scaled.commands,
    baselines: scaled.baselines,
    ledgerKeys: scaled.ledgerKeys,
  };
  say("scale-out compared; cleaning up");
  await live.cleanup([...envs, lat.env, floor.env, mcpEnv]);
  say("done");
}

result.targets = TARGETS;
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);

process.stderr.write("\n");
for (const [name, value, target, ok] of rows(result, coreOnly))
  process.stderr.write(`${name.padEnd(34)}${String(value).padStart(22)}   ${target.padEnd(22)}${ok === undefined ? "" : ok ? "met" : "NOT met"}\n`);
