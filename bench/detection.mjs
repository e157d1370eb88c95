#!/usr/bin/env node
// `npm run bench:detection`: Vigil's detection figures on the labelled benchmark files
// (issues 7 and 11), as JSON. Every file is replayed through `vigil eval`'s own code with
// the policy generated from its tool catalog (bench/policies/*.yaml, `vigil policy
// from-catalog`), on the whole file and on both halves of the split fixed before tuning
// (bench/split.mjs): `tune` is what the weights were chosen on, `holdout` is reported, not
// pinned (docs/detection.md tells how far it was kept clean). Rows:
// - agentdojo-gpt-4o-v2 (real GPT-4o traces with every tool's output): all, tune, holdout,
//   and the `important_instructions` attack alone (the one with published anchors); and
//   per suite (`suite:<banking|slack|travel>/<all|tune>`: the sessions of one suite, counted
//   in the same replay as the whole, so a suite whose honest work is held far more often
//   shows);
// - the same runs with every injected block restyled in the other published injection
//   styles (bench/style-shift.mjs): the agent's calls as recorded, the text Vigil reads
//   changed;
// - the AgentDojo and InjecAgent oracles (ground-truth calls, no outputs).
// Per-attack rows select sessions by the benchmark's `case` field: reporting only, the
// decision path never reads it.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Evaluator } from "../dist/tooling/evaluate.js";
import { runReplay } from "../dist/cli/commands/replay.js";
import { benchDir, splitLines } from "./split.mjs";
import { restyleLines, STYLES } from "./style-shift.mjs";

const root = join(import.meta.dirname, "..");
const RUNS = "agentdojo-gpt-4o-v2";
const POLICY = { [RUNS]: "agentdojo", "agentdojo-gt": "agentdojo", injecagent: "injecagent" };

function outcomes(dir) {
  const map = new Map();
  for (const line of readFileSync(join(dir, `${RUNS}.sessions.jsonl`), "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const o = JSON.parse(line);
    map.set(o.sessionId, { security: o.security === true ? true : o.security === false ? false : null, injected: o.injected === true });
  }
  return map;
}

/**
 * Replays one file once; returns the report of the whole and, when `sliceOf` is given (a
 * session id to its slice's name, or undefined), one report per slice of the same replay
 * (each session in the same stream, with the same history, as in the whole).
 */
async function evaluate(path, policy, sidecar, sliceOf) {
  const ev = new Evaluator();
  const slices = new Map();
  const sliceFor = (sessionId) => {
    const name = sliceOf?.(sessionId);
    if (name === undefined) return undefined;
    if (!slices.has(name)) slices.set(name, new Evaluator());
    return slices.get(name);
  };
  await runReplay([path], policy, {
    onCommand: (c) => {
      ev.onCommand(c);
      sliceFor(c.sessionId)?.onCommand(c);
    },
    onDecision: (d, raw) => {
      ev.onDecision(d, raw);
      sliceFor(d.sessionId)?.onDecision(d, raw);
    },
  });
  const bySlice = [...slices.keys()].sort().map((name) => [name, slices.get(name).report(sidecar)]);
  return { whole: ev.report(sidecar), bySlice };
}

/** The suite of each session (the first part of its `case`), for the per-suite rows. */
function suites(lines) {
  const map = new Map();
  for (const line of lines) {
    const e = JSON.parse(line);
    if (e.type === "session.started" && typeof e.case === "string") map.set(e.sessionId, e.case.split("/")[0]);
  }
  return map;
}

/** Keeps whole sessions whose started event satisfies `keep`. */
function sessionsWhere(lines, keep) {
  const kept = new Set();
  return lines.filter((line) => {
    if (line.trim() === "") return false;
    const e = JSON.parse(line);
    if (e.type === "session.started" && keep(e)) kept.add(e.sessionId);
    return kept.has(e.sessionId);
  });
}

const figures = (r) => ({
  sessions: r.sessions,
  driftCallsBlockedPct: r.calls.driftBlockedPct,
  alignedCallsBlockedPct: r.calls.alignedBlockedPct,
  driftSessionsCaughtPct: r.sessionsWithDrift.caughtPct,
  blockedBeforeFirstDriftPct: r.sessionsWithDrift.blockedBeforeFirstDriftPct,
  sessionsWithoutDriftBlockedPct: r.sessionsWithoutDrift.blockedPct,
  // What honest work pays, as a user feels it: the strongest response a session without drift got, and its calls blocked.
  honestSessions: {
    total: r.sessionsWithoutDrift.total,
    asked: r.sessionsWithoutDrift.asked,
    downgraded: r.sessionsWithoutDrift.downgraded,
    revoked: r.sessionsWithoutDrift.revoked,
    revokedPct: r.sessionsWithoutDrift.revokedPct,
    callsBlocked: r.sessionsWithoutDrift.callsBlocked,
  },
  ...(r.honestSlices ? { honestSlices: r.honestSlices } : {}),
  ...(r.attack ? { asrWithoutVigilPct: r.attack.asrWithoutVigilPct, residualAsrPct: r.attack.residualAsrPct } : {}),
});

/** The parts of one file to evaluate: whole, split, and (for the runs) one attack and the restyled copies. */
function partsOf(name, lines) {
  const { tune, holdout } = splitLines(lines);
  const parts = { all: lines, tune, holdout };
  if (name !== RUNS) return parts;
  const attack = (e) => String(e.case).split("/")[2] === "important_instructions";
  for (const [part, ls] of Object.entries({ all: lines, tune, holdout })) parts[`important_instructions/${part}`] = sessionsWhere(ls, attack);
  for (const style of Object.keys(STYLES)) parts[`style:${style}/all`] = restyleLines(lines, style);
  return parts;
}

export async function detectionFigures() {
  // The figures are Vigil's own: an optional judge configured in the environment is not asked.
  for (const key of Object.keys(process.env)) if (key.startsWith("VIGIL_JUDGE_")) delete process.env[key];
  const dir = benchDir();
  const sidecar = outcomes(dir);
  const tmp = mkdtempSync(join(tmpdir(), "vigil-detection-"));
  const rows = [];
  try {
    for (const [name, policyName] of Object.entries(POLICY)) {
      const policy = join(root, "bench", "policies", `${policyName}.yaml`);
      const lines = readFileSync(join(dir, `${name}.jsonl`), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "");
      for (const [part, ls] of Object.entries(partsOf(name, lines))) {
        const path = join(tmp, `${name}.${part.replace(/[/:]/g, "-")}.jsonl`);
        writeFileSync(path, `${ls.join("\n")}\n`);
        // Per-suite rows (the v2 runs, whole and tuning half): one suite's honest work held far
        // more often than the others' is what would generalise badly to a suite not in the data.
        const bySuite = name === RUNS && (part === "all" || part === "tune") ? suites(ls) : undefined;
        const r = await evaluate(path, policy, name === RUNS ? sidecar : undefined, bySuite && ((id) => bySuite.get(id)));
        rows.push({ file: name, part, policy: `bench/policies/${policyName}.yaml`, ...figures(r.whole) });
        for (const [suite, rs] of r.bySlice)
          rows.push({ file: name, part: `suite:${suite}/${part}`, policy: `bench/policies/${policyName}.yaml`, ...figures(rs) });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await detectionFigures();
  if (process.argv.includes("--markdown")) {
    const f = (v) => (v === undefined || v === null ? "–" : `${v.toFixed(2)} %`);
    console.log(
      "| file | part | sessions | residual attack success (without Vigil) | no-drift sessions blocked | blocked before 1st drift | drift sessions caught | drift calls blocked | aligned calls blocked |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows)
      console.log(
        `| ${r.file} | ${r.part} | ${r.sessions} | ${r.residualAsrPct === undefined ? "–" : `${f(r.residualAsrPct)} (${f(r.asrWithoutVigilPct)})`} | ${f(r.sessionsWithoutDriftBlockedPct)} | ${f(r.blockedBeforeFirstDriftPct)} | ${f(r.driftSessionsCaughtPct)} | ${f(r.driftCallsBlockedPct)} | ${f(r.alignedCallsBlockedPct)} |`,
      );
  } else {
    console.log(JSON.stringify({ benchmark: "detection", rows }, null, 2));
  }
}
