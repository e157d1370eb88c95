import type { Redis } from "ioredis";
import type { Baseline, SodRecord } from "../../core/index.js";
import type { Changes, DurableState, LoadRequest, Loaded, SessionSnapshot } from "../../app/durable-state.js";
import { baselineKey } from "../../app/durable-state.js";

// Redis as the durable state of the processor. Keys (prefix default "vigil:"):
//   session:<sessionId>          JSON { state, topic, partition, offset, key }   expires after the session TTL
//   baseline:<agent|principal>:<id>  JSON baseline
//   sod:<rule>|<domain>|<resource>  list of JSON ledger records (appended, never rewritten)
//   reviews                      hash sessionId → JSON review item (sessions held for a person)
// One pipelined round trip loads a batch; one MULTI/EXEC writes it.

/** The ledger keeps the last records per business object, for this long after the last step. */
export const SOD_RECORDS_PER_KEY = 1000;
export const SOD_TTL_SECONDS = 90 * 86_400;

export interface RedisStateOptions {
  readonly prefix: string;
  readonly sessionTtlSeconds: number;
  /** Observes each round trip (for the Redis latency histogram). */
  readonly onRoundTrip?: (op: "load" | "persist", seconds: number) => void;
}

type Client = Pick<Redis, "pipeline" | "multi" | "ping" | "hlen">;

export function redisState(redis: Client, o: RedisStateOptions): DurableState {
  const k = {
    session: (id: string) => `${o.prefix}session:${id}`,
    baseline: (key: string) => `${o.prefix}baseline:${key}`,
    sod: (key: string) => `${o.prefix}sod:${key}`,
    reviews: `${o.prefix}reviews`,
  };
  const timed = async <T>(op: "load" | "persist", f: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      o.onRoundTrip?.(op, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };
  return {
    async load(req: LoadRequest): Promise<Loaded> {
      if (req.sessions.length + req.baselines.length + req.sodKeys.length === 0) return { sessions: new Map(), baselines: new Map(), sod: new Map() };
      return timed("load", async () => {
        const p = redis.pipeline();
        for (const id of req.sessions) p.get(k.session(id));
        for (const b of req.baselines) p.get(k.baseline(baselineKey(b.kind, b.id)));
        for (const key of req.sodKeys) p.lrange(k.sod(key), -SOD_RECORDS_PER_KEY, -1);
        const results = (await p.exec()) ?? [];
        const value = (i: number): unknown => {
          const [err, v] = results[i] ?? [new Error("missing reply"), null];
          if (err) throw err;
          return v;
        };
        let i = 0;
        const sessions = new Map<string, SessionSnapshot>();
        for (const id of req.sessions) {
          const v = value(i++);
          if (typeof v === "string") sessions.set(id, JSON.parse(v) as SessionSnapshot);
        }
        const baselines = new Map<string, Baseline>();
        for (const b of req.baselines) {
          const v = value(i++);
          if (typeof v === "string") baselines.set(baselineKey(b.kind, b.id), JSON.parse(v) as Baseline);
        }
        const sod = new Map<string, SodRecord[]>();
        for (const key of req.sodKeys) {
          const v = value(i++) as string[];
          if (v.length > 0)
            sod.set(
              key,
              v.map((r) => JSON.parse(r) as SodRecord),
            );
        }
        return { sessions, baselines, sod };
      });
    },
    async persist(c: Changes): Promise<void> {
      if (c.sessions.length + c.baselines.length + c.sodAppends.length + c.reviews.length === 0) return;
      await timed("persist", async () => {
        const m = redis.multi();
        for (const s of c.sessions) m.set(k.session(s.state.sessionId), JSON.stringify(s), "EX", o.sessionTtlSeconds);
        for (const b of c.baselines) m.set(k.baseline(baselineKey(b.kind, b.id)), JSON.stringify(b.baseline));
        for (const a of c.sodAppends) {
          m.rpush(k.sod(a.key), JSON.stringify(a.record));
          m.ltrim(k.sod(a.key), -SOD_RECORDS_PER_KEY, -1);
          m.expire(k.sod(a.key), SOD_TTL_SECONDS);
        }
        for (const r of c.reviews) m.hset(k.reviews, r.sessionId, JSON.stringify(r));
        const results = await m.exec();
        const failed = results?.find(([err]) => err);
        if (results === null || failed) throw new Error(`redis persist failed: ${failed?.[0]?.message ?? "transaction aborted"}`);
      });
    },
    reviewCount: () => redis.hlen(k.reviews),
    async ping() {
      try {
        return (await redis.ping()) === "PONG";
      } catch {
        return false;
      }
    },
  };
}
