#!/usr/bin/env node
// `npm run bench`: performance figures as JSON on stdout. Core replay throughput is
// measured on the AgentDojo GPT-4o v2 traces (../shared/bench; every call followed by the
// tool's real output), one core, in memory, with the policy generated from the benchmark's
// tool catalog (bench/policies/agentdojo.yaml), so every detection signal runs: decode +
// validate and the decision pipeline timed separately, median of 5 runs.
//   node bench/run.mjs [--input <file in the bench dir>] [--policy <file>|default]
import { readFileSync } from "node:fs";
import { benchDir } from "./split.mjs";
import { join } from "node:path";
import { decodeLine } from "../dist/app/line-decoder.js";
import { createPipeline } from "../dist/app/pipeline.js";
import { InMemoryStateStore } from "../dist/app/in-memory-store.js";
import { compilePolicy } from "../dist/core/index.js";
import { loadPolicy } from "../dist/adapters/policy-file.js";

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
const input = arg("--input", "agentdojo-gpt-4o-v2.jsonl");
const policyArg = arg("--policy", join(import.meta.dirname, "policies", "agentdojo.yaml"));
const file = join(dir, input);
const lines = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const decodeRuns = [];
let events = [];
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  events = lines
    .map((l) => decodeLine(l))
    .filter((d) => d.ok === true)
    .map((d) => d.event);
  decodeRuns.push(ms(t0));
}
const policy = policyArg === "default" ? compilePolicy() : loadPolicy(policyArg);
const pipelineRuns = [];
for (let r = 0; r < 5; r++) {
  const pipeline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  const t0 = process.hrtime.bigint();
  for (const e of events) pipeline.handle(e);
  pipelineRuns.push(ms(t0));
}
const decodeMs = median(decodeRuns);
const pipelineMs = median(pipelineRuns);
console.log(
  JSON.stringify(
    {
      benchmark: "core-replay",
      input,
      policy: policyArg === "default" ? "default" : policyArg.replace(`${join(import.meta.dirname, "..")}/`, ""),
      results: events.filter((e) => e.type === "action.result").length,
      events: events.length,
      node: process.version,
      decodeValidate: { medianMs: Math.round(decodeMs), eventsPerSecond: Math.round(events.length / (decodeMs / 1000)) },
      pipeline: { medianMs: Math.round(pipelineMs), eventsPerSecond: Math.round(events.length / (pipelineMs / 1000)) },
      endToEnd: { eventsPerSecond: Math.round(events.length / ((decodeMs + pipelineMs) / 1000)) },
    },
    null,
    2,
  ),
);
