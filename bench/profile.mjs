#!/usr/bin/env node
// Where the live processor's CPU per event goes beyond the core's: runs `vigil start` under
// --cpu-prof over the bench workload (the live run's order, or --spread: each partition's
// sessions spread out, bench/workload.mjs interleave) and replays the same events offline in
// this process under the inspector's profiler, then prints both profiles' main-thread CPU per
// event by part (self time, each sample given to the nearest frame of a known part), the
// inclusive time of named functions (synchronous stacks only: an async function's time after
// its first await is not under it) and the top functions by self time. A profile's samples
// are wall time, which a loaded machine stretches; so each part is its share of the busy
// (non-idle) samples times the main thread's measured CPU per event (bench/threads.mjs); the
// other threads' CPU (V8's garbage collection helpers) is given apart. Needs the local
// stack; the profiles stay in --out.
//   node bench/profile.mjs [--events 60000] [--spread] [--out /tmp/vigil-profile] [--node-arg <flag for vigil start's node> ...]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { benchDir } from "./split.mjs";
import { decodeLine } from "../dist/app/line-decoder.js";
import { createPipeline } from "../dist/app/pipeline.js";
import { InMemoryStateStore } from "../dist/app/in-memory-store.js";
import { loadPolicy } from "../dist/adapters/policy-file.js";
import { interleave, workload } from "./workload.mjs";
import * as live from "./live.mjs";
import { threadCpu, threadDelta } from "./threads.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const total = Number(arg("--events", "60000"));
const spread = process.argv.includes("--spread");
const out = arg("--out", "/tmp/vigil-profile");
const nodeArgs = process.argv.flatMap((a, i) => (a === "--node-arg" ? [process.argv[i + 1]] : []));
const policyFile = join(import.meta.dirname, "policies", "agentdojo.yaml");
const PARTITIONS = 6;
mkdirSync(out, { recursive: true });

// Parts, by the script a frame belongs to: the first that matches, from the sample's own frame up.
const PARTS = [
  ["core (decisions)", /\/dist\/core\//],
  ["app: pipeline and batch", /\/dist\/app\//],
  ["adapter: Redis state", /\/dist\/adapters\/redis\//],
  ["adapter: publish (encode, records)", /\/dist\/adapters\/kafka\/output\.js/],
  ["adapter: decode", /\/dist\/adapters\/kafka\/event-decoder\.js/],
  ["adapter: signing", /\/dist\/adapters\/(signing|record-jws)\.js/],
  ["adapter: processor loop", /\/dist\/adapters\/kafka\/processor\.js/],
  ["adapter: metrics", /\/dist\/adapters\/prom-metrics\.js|prom-client/],
  ["adapter: other", /\/dist\//],
  ["kafkajs", /kafkajs/],
  ["ioredis", /ioredis|redis-parser|cluster-key-slot/],
  ["jose", /\/jose\//],
  ["zod", /\/zod\//],
  ["node internals", /^node:/],
];
const SPECIAL = new Map([
  ["(garbage collector)", "garbage collection"],
  ["(idle)", "idle"],
  ["(program)", "(program)"],
  ["(root)", "(program)"],
]);
// Inclusive time of these functions (a sample counts once however deep they recur).
const STEPS = ["handleBatch", "decode", "processBatch", "handle", "publishBatch", "persist", "load", "sign", "stringify", "parse", "send", "commitOffsets"];

/**
 * Main-thread CPU µs per event by part, by step and by function, from a .cpuprofile (the
 * samples within `window`, CLOCK_MONOTONIC µs, when given).
 */
function summarize(profile, events, mainMicrosPerEvent, window) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map();
  const part = (id) => {
    if (partOf.has(id)) return partOf.get(id);
    const n = byId.get(id);
    const special = SPECIAL.get(n.callFrame.functionName);
    let p = special;
    if (p === undefined) {
      const url = n.callFrame.url;
      p = url ? PARTS.find(([, re]) => re.test(url))?.[0] : undefined;
      if (p === undefined) p = parent.has(id) ? part(parent.get(id)) : "(program)";
    }
    partOf.set(id, p);
    return p;
  };
  const stack = (id) => {
    const names = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) names.add(byId.get(at).callFrame.functionName);
    return names;
  };
  const parts = {};
  const steps = {};
  const self = {};
  let at = profile.startTime;
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    at += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window.from || at > window.to)) continue;
    const names = stack(id);
    const p = part(id);
    if (p === "idle") {
      idle += us;
      continue;
    }
    parts[p] = (parts[p] ?? 0) + us;
    busy += us;
    const f = byId.get(id).callFrame;
    const fn = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1} [${p}]`;
    self[fn] = (self[fn] ?? 0) + us;
    for (const s of STEPS) if (names.has(s)) steps[s] = (steps[s] ?? 0) + us;
  }
  const per = (o, top = Infinity) =>
    Object.fromEntries(
      Object.entries(o)
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, Math.round((10 * mainMicrosPerEvent * v) / busy) / 10]),
    );
  return {
    events,
    mainThreadMicrosPerEvent: mainMicrosPerEvent,
    idleShareOfSamples: Math.round((100 * idle) / (idle + busy)) / 100,
    parts: per(parts),
    inclusive: per(steps),
    topSelf: per(self, 25),
  };
}

const perEvent = (seconds, events) => Math.round((1e7 * seconds) / events) / 10;

let messages = workload(join(benchDir(), "agentdojo-gpt-4o-v2.jsonl"), total, PARTITIONS);
if (spread) messages = interleave(messages);

// Offline: the same events, decoded and decided in this process, profiled.
const policy = loadPolicy(policyFile);
const warm = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
// A first pass compiles the code, as the live processor's measured window starts compiled.
for (const m of messages) {
  const d = decodeLine(m.value);
  if (d.ok === true) warm.handle(d.event);
}
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 1000 });
await session.post("Profiler.start");
const offline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
const cpu0 = process.cpuUsage();
const threads0 = threadCpu();
for (const m of messages) {
  const d = decodeLine(m.value);
  if (d.ok === true) offline.handle(d.event);
}
const offlineCpu = process.cpuUsage(cpu0);
const offlineThreads = threadDelta(threads0, threadCpu());
const { profile: offlineProfile } = await session.post("Profiler.stop");
session.disconnect();
writeFileSync(join(out, "offline.cpuprofile"), JSON.stringify(offlineProfile));

// Live: vigil start under --cpu-prof over the same events.
const env = live.runEnv("profile", policyFile, PARTITIONS);
const topic = `${env.VIGIL_TOPIC_PREFIX}vigil.events`;
await live.seed(topic, messages, PARTITIONS);
const before = new Set(readdirSync(out));
const run = await live.liveRun(env, topic, messages.length, ["--cpu-prof", "--cpu-prof-dir", out, ...nodeArgs]);
await live.cleanup([env]);
const written = readdirSync(out).filter((f) => f.endsWith(".cpuprofile") && !before.has(f) && f !== "offline.cpuprofile");
if (written.length !== 1) throw new Error(`expected one profile from vigil start in ${out}, found ${written.join(", ") || "none"}`);
const liveProfile = JSON.parse(readFileSync(join(out, written[0]), "utf8"));

const report = {
  events: messages.length,
  spread,
  nodeArgs,
  offline: {
    cpuMicrosPerEvent: perEvent((offlineCpu.user + offlineCpu.system) / 1e6, messages.length),
    otherThreadsMicrosPerEvent: perEvent(offlineThreads.other ?? 0, messages.length),
    ...summarize(offlineProfile, messages.length, perEvent(offlineThreads.main ?? 0, messages.length)),
  },
  live: {
    eventsPerSec: run.eventsPerSec,
    cpuMicrosPerEvent: perEvent(run.usage.cpuSeconds, run.usage.events),
    otherThreadsMicrosPerEvent: perEvent(run.usage.threadCpuSeconds.other ?? 0, run.usage.events),
    eventsPerBatch: Math.round(run.usage.events / Math.max(1, run.usage.batches)),
    // The profile's busy samples in the measured window (from a tenth of the events on), scaled to its main-thread CPU per event.
    ...summarize(liveProfile, run.usage.events, perEvent(run.usage.threadCpuSeconds.main ?? 0, run.usage.events), run.usage.monotonicMicros),
  },
  profiles: { offline: join(out, "offline.cpuprofile"), live: join(out, written[0]) },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
