import type { Baseline, SodRecord } from "../../core/index.js";
import type { Changes, DurableState, LoadRequest, Loaded, SessionSnapshot } from "../../app/durable-state.js";
import { baselineKey, parseSnapshot } from "../../app/durable-state.js";
import { caseWrites, redisCases } from "./cases-store.js";
import type { Read, Write } from "./io.js";
import { redisIo } from "./io.js";
import { persistJournaled, rollForward, setPosition } from "./journal.js";
import type { RedisClient } from "./keys.js";
import { BASELINE_TTL_SECONDS, SOD_RECORDS_PER_KEY, SOD_TTL_SECONDS, stateKeys } from "./keys.js";

// Redis as the processor's DurableState (the key layout: keys.ts). This module holds the
// sessions, baselines and separation-of-duties ledger, and composes the other parts:
// review cases (cases-store.ts) and, on a cluster, the batch journal (journal.ts).

export { BASELINE_TTL_SECONDS, CASE_TTL_SECONDS, SOD_RECORDS_PER_KEY, SOD_TTL_SECONDS, stateKeys } from "./keys.js";
export type { RedisClient } from "./keys.js";

export interface RedisStateOptions {
  readonly prefix: string;
  readonly sessionTtlSeconds: number;
  /** Observes each round trip (for the Redis latency histogram). */
  readonly onRoundTrip?: (op: "load" | "persist", seconds: number) => void;
  /** Redis Cluster: a batch's journal was applied again after an interrupted persist (its number of writes). */
  readonly onRolledForward?: (writes: number) => void;
}

export function redisState(redis: RedisClient, o: RedisStateOptions): DurableState {
  const k = stateKeys(o.prefix);
  const io = redisIo(redis);
  const { cluster, readAll, transaction } = io;
  const timed = async <T>(op: "load" | "persist", f: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      o.onRoundTrip?.(op, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };

  async function load(req: LoadRequest): Promise<Loaded> {
    if (req.sessions.length + req.baselines.length + req.sodKeys.length === 0 && !req.log) return { sessions: new Map(), baselines: new Map(), sod: new Map() };
    const loaded = await timed("load", async () => {
      const reads: Read[] = [
        ...req.sessions.map((id) => ({ key: k.session(id) })),
        ...req.baselines.map((b) => ({ key: k.baseline(baselineKey(b.kind, b.id)) })),
        ...req.sodKeys.map((key) => ({ key: k.sod(key), list: true })),
        ...(req.log ? [{ key: k.log(req.log) }] : []),
        // A cluster's journal shares the position's slot: read in the same round trip.
        ...(req.log && cluster ? [{ key: k.journal(req.log) }] : []),
      ];
      const values = await readAll(reads);
      let i = 0;
      const sessions = new Map<string, SessionSnapshot>();
      for (const id of req.sessions) {
        const v = values[i++];
        if (typeof v === "string") sessions.set(id, parseSnapshot(v));
      }
      const baselines = new Map<string, Baseline>();
      for (const b of req.baselines) {
        const v = values[i++];
        if (typeof v === "string") baselines.set(baselineKey(b.kind, b.id), JSON.parse(v) as Baseline);
      }
      const sod = new Map<string, SodRecord[]>();
      for (const key of req.sodKeys) {
        const v = values[i++] as string[];
        if (v.length > 0)
          sod.set(
            key,
            v.map((r) => JSON.parse(r) as SodRecord),
          );
      }
      const through = req.log ? values[i++] : undefined;
      const journal = values[i];
      return { sessions, baselines, sod, ...(typeof through === "string" ? { through } : {}), journal: typeof journal === "string" ? journal : undefined };
    });
    const { journal, ...rest } = loaded;
    if (journal === undefined || !req.log) return rest;
    // A persist interrupted after its journal: complete it, then read what it wrote.
    await rollForward(redis, io, k, req.log, journal, o.onRolledForward);
    return load(req);
  }

  return {
    load,
    async persist(c: Changes): Promise<void> {
      if (c.sessions.length + c.baselines.length + c.sodAppends.length + c.cases.length === 0 && !c.log) return;
      await timed("persist", async () => {
        const writes: Write[] = [];
        for (const s of c.sessions) {
          const key = k.session(s.state.sessionId);
          writes.push({ key, ops: [{ c: "set", key, value: JSON.stringify(s), ex: o.sessionTtlSeconds }] });
        }
        // Deltas, never whole baselines: another processor may have added to the same one meanwhile.
        const mark = c.log ? `p:${c.log.topic}:${c.log.partition}` : "";
        const through = c.log?.through ?? "0";
        for (const b of c.baselines) {
          const key = k.baseline(baselineKey(b.kind, b.id));
          const meta = k.baselineMeta(baselineKey(b.kind, b.id));
          writes.push({ key, ops: [{ c: "merge", key, meta, delta: JSON.stringify(b.delta), mark, through, ex: BASELINE_TTL_SECONDS }] });
        }
        for (const a of c.sodAppends) {
          const key = k.sod(a.key);
          writes.push({ key, ops: [{ c: "rpush", key, value: JSON.stringify(a.record), keep: SOD_RECORDS_PER_KEY, ex: SOD_TTL_SECONDS }] });
        }
        for (const change of c.cases) writes.push(...caseWrites(k, change));
        const log = c.log;
        if (!cluster) return transaction(writes, log ? setPosition(k, log) : undefined);
        await persistJournaled(io, k, writes, log);
      });
    },
    ...redisCases(redis, k, io),
    async ping() {
      try {
        return (await redis.ping()) === "PONG";
      } catch {
        return false;
      }
    },
  };
}
