#!/usr/bin/env node
// Heap per active session: `sessions` sessions of the workload, each started and one call
// and its tool output decided, all still open, held by the pipeline's state store.
// Run with --expose-gc (bench/run.mjs does); prints one JSON object.
//   node --expose-gc bench/heap.mjs <events file> <policy file> <sessions>
import { createPipeline } from "../dist/app/pipeline.js";
import { InMemoryStateStore } from "../dist/app/in-memory-store.js";
import { decodeLine } from "../dist/app/line-decoder.js";
import { loadPolicy } from "../dist/adapters/policy-file.js";
import { workload } from "./workload.mjs";

const [file, policyFile, count] = process.argv.slice(2);
const sessions = Number(count);
if (typeof globalThis.gc !== "function") throw new Error("run with --expose-gc");
const policy = loadPolicy(policyFile);

// The first three events of every session (started, a call, its output), replicated. The
// lines are kept as text and decoded one at a time while measuring, so the heap holds what
// the sessions retain, not the decoded events.
const perSession = new Map();
const lines = [];
for (const m of workload(file, sessions * 12, 1)) {
  const decoded = decodeLine(m.value);
  if (!decoded.ok) continue;
  const e = decoded.event;
  const n = perSession.get(e.sessionId) ?? 0;
  if (n >= 3 || e.type === "session.ended") continue;
  if (n === 0 && perSession.size >= sessions) continue;
  perSession.set(e.sessionId, n + 1);
  lines.push(m.value);
}
perSession.clear();
const store = new InMemoryStateStore();
const pipeline = createPipeline({ policy: () => policy, store });
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const before = heap();
for (const line of lines) {
  const decoded = decodeLine(line);
  if (decoded.ok === true) pipeline.handle(decoded.event);
}
const after = heap();
const open = [...store.sessions.values()].filter((s) => !s.ended).length;
console.log(JSON.stringify({ sessions: open, events: lines.length, heapBytes: after - before, heapBytesPerSession: Math.round((after - before) / open) }));
