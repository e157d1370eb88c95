import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { decodeEvent } from "../../src/adapters/kafka/event-decoder.js";
import { processBatch } from "../../src/app/batch-processor.js";
import type { BatchInput } from "../../src/app/batch-processor.js";
import { InMemoryDurableState } from "../../src/app/in-memory-durable-state.js";
import { compilePolicy } from "../../src/core/index.js";
import { benchData } from "../support/bench-data.js";

// Hostile input at volume: messages built by fast-check and by mutating real events of the
// public benchmark files go through the live processor's decoder and batch pipeline
// (decodeEvent → processBatch → persist), as on a partition. Every input must be accounted
// for — decided, recognised as a repeat, or dead-lettered with a reason — and neither a
// crash nor a hang nor unbounded state may follow. Shared by the 50k run in `npm test` and
// the 1M run in `npm run test:soak`.

export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Real events to mutate: the v2 AgentDojo file (tool outputs included) and InjecAgent, found
 * like every benchmark file (test/support/bench-data.ts: required under CI=true). Without
 * them, outside CI, the in-repo example scenarios stand in (fewer shapes of real event).
 */
function realLines(): string[] {
  const lines = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
  const bench = benchData("test/fuzz/hostile-volume.ts", "the in-repo scenarios are mutated instead");
  if (bench !== undefined) return [...lines(join(bench, "agentdojo-gpt-4o-v2.jsonl")), ...lines(join(bench, "injecagent.jsonl"))];
  // The scenarios are a few dozen events: copied 200 times under fresh event and session ids,
  // so that mutations of them are mostly new events, as those of the benchmark files are.
  const scenarios = join(import.meta.dirname, "..", "..", "examples", "scenarios");
  const examples = readdirSync(scenarios)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .flatMap((f) => lines(join(scenarios, f)));
  const copies: string[] = [];
  for (let k = 0; k < 200; k++)
    for (const line of examples) {
      const e = JSON.parse(line) as Json;
      for (const id of ["eventId", "sessionId", "actionEventId"]) if (typeof e[id] === "string") e[id] = `${e[id] as string}~${k}`;
      copies.push(JSON.stringify(e));
    }
  return copies;
}

type Json = Record<string, unknown>;

/** Sets a value at a dotted path, creating objects on the way (the mutation target). */
function setPath(o: Json, path: string, value: unknown): Json {
  const keys = path.split(".");
  let at: Json = o;
  for (const k of keys.slice(0, -1)) {
    const next = at[k];
    at = at[k] = typeof next === "object" && next !== null && !Array.isArray(next) ? (next as Json) : {};
  }
  at[keys[keys.length - 1] as string] = value;
  return o;
}

const deep = (depth: number, leaf: string): string => "[".repeat(depth) + leaf + "]".repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const FIELDS = [
  "eventId",
  "sessionId",
  "type",
  "time",
  "agent.id",
  "principal.id",
  "intent.goal",
  "action.capability",
  "action.tool",
  "resource.id",
  "resource.sensitivity",
  "args",
  "args.to",
  "output.text",
  "output.bytes",
  "actionEventId",
  "context.geo",
  "grants",
];

/** Values an attacker would try in any field. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "NaN",
    "Infinity",
    "-0",
    "1e400",
    "",
    "\u0000",
    "\ud800",
    "9999-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-13-45T25:61:61Z",
    "*",
    "a.*.b",
    null,
    true,
    0,
    -1,
    Number.MAX_SAFE_INTEGER,
    1e308,
    -1e308,
    2 ** 64,
    [],
    {},
  ),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 4 }),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 100_000, max: 300_000 }).map((n) => "y".repeat(n)),
  fc.dictionary(fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty"), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 4,
  }),
);

/** One hostile message, as bytes. `lines` are real events; `sessions` a few ids for out-of-order and repeated traffic. */
export function hostileMessage(lines: readonly string[]): fc.Arbitrary<Buffer> {
  const real = fc.nat({ max: lines.length - 1 }).map((i) => lines[i] as string);
  const mutated = fc.oneof(
    // A real event, unchanged (valid traffic between the hostile inputs; its eventId may repeat).
    real.map((l) => Buffer.from(l)),
    // One field replaced by a hostile value.
    fc.tuple(real, fc.constantFrom(...FIELDS), hostileValue).map(([l, f, v]) => Buffer.from(JSON.stringify(setPath(JSON.parse(l) as Json, f, v)))),
    // The session or event ids swapped for unknown or repeated ones.
    fc.tuple(real, fc.constantFrom("s-unknown", "s-0", "s-1"), fc.constantFrom("e-1", "e-2", "dup")).map(([l, s, e]) => {
      const o = JSON.parse(l) as Json;
      return Buffer.from(JSON.stringify({ ...o, sessionId: s, eventId: e }));
    }),
    // Clock skew: far past, far future, or a few seconds back (out of order).
    fc.tuple(real, fc.integer({ min: -4_000_000_000_000, max: 200_000_000_000_000 })).map(([l, ms]) => {
      const o = JSON.parse(l) as Json;
      const t = Math.min(8.64e15, Math.max(-8.64e15, ms));
      return Buffer.from(JSON.stringify({ ...o, time: new Date(t).toISOString() }));
    }),
    // Bytes cut short, or one byte replaced.
    fc.tuple(real, fc.nat(), fc.nat({ max: 255 }), fc.boolean()).map(([l, at, byte, cut]) => {
      const b = Buffer.from(l);
      const i = at % b.length;
      return cut ? b.subarray(0, i) : Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i + 1)]);
    }),
    // Invalid UTF-8 inside a string value (the goal, else a tool output, else the event id).
    real.map((l) => {
      const b = Buffer.from(l);
      const at = ['"goal":"', '"text":"', '"eventId":"'].map((k) => b.indexOf(k) + k.length).find((i) => i >= 8) ?? 0;
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), b.subarray(at)]);
    }),
  );
  const structured = fc
    .record(
      {
        eventId: fc.oneof(fc.string({ maxLength: 40 }), fc.constant("dup")),
        sessionId: fc.constantFrom("s-0", "s-1", "s-2", "s-unknown"),
        type: fc.constantFrom("session.started", "action", "action.result", "grant.requested", "intent.updated", "context.changed", "session.ended", "bogus"),
        time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        agent: fc.record({ id: fc.string({ minLength: 1, maxLength: 20 }) }),
        principal: fc.record({ id: fc.string({ minLength: 1, maxLength: 20 }) }),
        intent: fc.record({ goal: fc.string({ maxLength: 200 }) }),
        action: fc.record({
          capability: fc.oneof(fc.constantFrom("mail.send", "payments.transfer", "constructor", "__proto__"), fc.string({ maxLength: 30 })),
        }),
        args: fc.jsonValue({ maxDepth: 3 }),
        output: fc.record({ text: fc.string({ maxLength: 300 }) }),
        actionEventId: fc.string({ maxLength: 20 }),
        outcome: fc.constantFrom("success", "error", "denied", "bogus"),
      },
      { requiredKeys: ["eventId", "sessionId", "type", "time", "agent", "principal"] },
    )
    .map((o) => Buffer.from(JSON.stringify(o)));
  // Rare, because each is up to a megabyte: outputs over the cap, deep nesting, a message over the size limit.
  const giant = fc.oneof(
    // A huge tool output (over the 65,536-character cap, or near the message cap).
    fc.tuple(real, fc.integer({ min: 60_000, max: 1_100_000 })).map(([l, n]) => {
      const o = JSON.parse(l) as Json;
      return Buffer.from(
        JSON.stringify({ ...o, type: "action.result", actionEventId: String(o.eventId), outcome: "success", output: { text: "A".repeat(n) } }),
      );
    }),
    // Deep nesting in args (arrays or objects).
    fc.tuple(real, fc.integer({ min: 100, max: 100_000 }), fc.boolean()).map(([l, d, arr]) => {
      const o = JSON.stringify(JSON.parse(l) as Json);
      return Buffer.from(`${o.slice(0, -1)},"args":{"x":${arr ? deep(d, "1") : deepObject(d)}}}`);
    }),
    fc.constant(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x61)),
  );
  const noise = fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
    fc.jsonValue({ maxDepth: 5 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
    fc.constantFrom(Buffer.alloc(0), Buffer.from(" \n\t"), Buffer.from([0, 0, 0, 0, 1, 2])),
  );
  return fc.oneof({ arbitrary: mutated, weight: 40 }, { arbitrary: structured, weight: 20 }, { arbitrary: noise, weight: 6 }, { arbitrary: giant, weight: 1 });
}

export interface HostileRun {
  inputs: number;
  bytes: number;
  decided: number;
  repeats: number;
  deadLettered: number;
  byReason: Record<string, number>;
  /** The largest session snapshot stored, in JSON bytes. */
  maxSnapshotBytes: number;
  sessionsStored: number;
  /** The slowest batch relative to its size: milliseconds, bytes. */
  slowest: { ms: number; bytes: number; messages: number };
  heapUsedBytes: number;
  elapsedMs: number;
}

/**
 * Sends `total` hostile messages through decode → processBatch → persist, in batches of
 * `batchSize` (one partition), and checks the accounting of every batch as it goes.
 */
export async function runHostile(total: number, seed: number, batchSize = 500): Promise<HostileRun> {
  const lines = realLines();
  const arbitrary = hostileMessage(lines);
  const policy = compilePolicy();
  const state = new InMemoryDurableState();
  const run: HostileRun = {
    inputs: 0,
    bytes: 0,
    decided: 0,
    repeats: 0,
    deadLettered: 0,
    byReason: {},
    maxSnapshotBytes: 0,
    sessionsStored: 0,
    slowest: { ms: 0, bytes: 0, messages: 0 },
    heapUsedBytes: 0,
    elapsedMs: 0,
  };
  const t0 = performance.now();
  let offset = 0;
  for (let b = 0; run.inputs < total; b++) {
    const n = Math.min(batchSize, total - run.inputs);
    const messages = fc.sample(arbitrary, { numRuns: n, seed: seed + b });
    const started = performance.now();
    const inputs: BatchInput[] = [];
    let bytes = 0;
    for (const m of messages) {
      bytes += m.length;
      const d = await decodeEvent(m, MAX_MESSAGE_BYTES, undefined);
      const at = String(offset++);
      inputs.push(d.ok ? { offset: at, ok: true, event: d.event, format: d.format } : { offset: at, ok: false, reason: d.reason, error: d.error });
    }
    const out = await processBatch(policy, state, new Map(), { topic: "vigil.events", partition: 0 }, inputs);
    await state.persist(out.changes);
    const ms = performance.now() - started;
    if (ms / Math.max(1, bytes) > run.slowest.ms / Math.max(1, run.slowest.bytes)) run.slowest = { ms, bytes, messages: n };
    const accounted = out.processed.length + out.duplicates + out.alreadyApplied + out.rejected.length;
    if (accounted !== n) throw new Error(`batch ${b} (seed ${seed + b}): ${n} inputs but ${accounted} accounted for`);
    for (const r of out.rejected) {
      if (!r.reason || !r.error) throw new Error(`batch ${b}: a dead-lettered input without reason or error`);
      run.byReason[r.reason] = (run.byReason[r.reason] ?? 0) + 1;
    }
    run.inputs += n;
    run.bytes += bytes;
    run.decided += out.processed.length;
    run.repeats += out.duplicates + out.alreadyApplied;
    run.deadLettered += out.rejected.length;
  }
  for (const v of state.sessions.values()) run.maxSnapshotBytes = Math.max(run.maxSnapshotBytes, v.length);
  run.sessionsStored = state.sessions.size;
  run.heapUsedBytes = process.memoryUsage().heapUsed;
  run.elapsedMs = performance.now() - t0;
  return run;
}
