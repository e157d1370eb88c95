#!/usr/bin/env node
// The tuning / held-out split of the labelled benchmark files, fixed before any tuning
// (issue 7, kept for issue 11): a quarter of the *tasks* is held out, so no goal text of a held-out session
// was ever seen while tuning. A task is what the user asked for: the `<suite>/<user task>`
// prefix of a record's `case` when it has one with a slash in the middle of three or more
// parts (AgentDojo), else the goal text (InjecAgent: one goal per user case). A task is held
// out when the first byte of SHA-256(task) is divisible by 4. Sessions stay whole and in
// file order, so baselines learn each split's history as a live deployment would.
//
//   node bench/split.mjs [outDir]   → outDir/<name>.tune.jsonl, outDir/<name>.holdout.jsonl
//
// This is evaluation tooling: nothing in src/ reads it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const FILES = ["agentdojo-gpt-4o-v2", "agentdojo-gt", "injecagent"];

/**
 * The folder of the public benchmark files: `VIGIL_BENCH_DIR` when set (and only it, so a
 * wrong value is an error rather than a silent fallback), else `bench/data/` in this
 * repository (git-ignored: put or link the files there). Throws, naming where it looked,
 * when it does not hold the data.
 */
export function benchDir() {
  const explicit = process.env.VIGIL_BENCH_DIR;
  const candidates = explicit ? [explicit] : [join(import.meta.dirname, "data")];
  const dir = candidates.find((d) => existsSync(join(d, "agentdojo-gpt-4o-v2.jsonl")));
  if (!dir) throw new Error(`benchmark data not found; set VIGIL_BENCH_DIR (looked in ${candidates.join(", ")})`);
  return dir;
}

export function taskOf(started) {
  const parts = typeof started.case === "string" ? started.case.split("/") : [];
  return parts.length >= 3 ? parts.slice(0, 2).join("/") : `goal:${started.intent?.goal ?? ""}`;
}

export const isHeldOut = (task) => createHash("sha256").update(task).digest()[0] % 4 === 0;

/** Splits one file's lines by task; returns { tune, holdout } line arrays. */
export function splitLines(lines) {
  const out = { tune: [], holdout: [] };
  const side = new Map();
  for (const line of lines) {
    if (line.trim() === "") continue;
    const e = JSON.parse(line);
    if (e.type === "session.started") side.set(e.sessionId, isHeldOut(taskOf(e)) ? "holdout" : "tune");
    const s = side.get(e.sessionId);
    if (s === undefined) throw new Error(`${e.eventId}: event before its session.started`);
    out[s].push(line);
  }
  return out;
}

export function writeSplit(outDir = join(import.meta.dirname, ".split")) {
  const dir = benchDir();
  mkdirSync(outDir, { recursive: true });
  const written = {};
  for (const name of FILES) {
    const { tune, holdout } = splitLines(readFileSync(join(dir, `${name}.jsonl`), "utf8").split("\n"));
    for (const [part, lines] of Object.entries({ tune, holdout })) {
      const path = join(outDir, `${name}.${part}.jsonl`);
      writeFileSync(path, `${lines.join("\n")}\n`);
      written[`${name}.${part}`] = path;
    }
  }
  return { benchDir: dir, files: written };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = writeSplit(process.argv[2]);
  for (const [k, p] of Object.entries(r.files)) console.log(`${k}\t${p}`);
}
