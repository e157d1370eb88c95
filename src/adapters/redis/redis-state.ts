import type { ChainableCommander, Redis } from "ioredis";
import calculateSlot from "cluster-key-slot";
import type { Baseline, SodRecord } from "../../core/index.js";
import type { Changes, DurableState, LoadRequest, Loaded, LogPartition, SessionSnapshot } from "../../app/durable-state.js";
import { baselineKey } from "../../app/durable-state.js";

// Redis (one server, or a Redis Cluster through ioredis's Cluster) as the durable state of
// the processor. Keys (prefix default "vigil:"); the part in {braces} is the Redis Cluster
// hash tag, so everything of one session lives in one slot:
//   session:{<sessionId>}                 JSON { state, topic, partition, offset, key }   expires after the session TTL
//   baseline:{<agent|principal>:<id>}     JSON baseline                                   expires BASELINE_TTL_SECONDS after its last update
//   sod:{<rule>|<domain>|<resource>}      list of JSON ledger records (appended, never rewritten), expires SOD_TTL_SECONDS after the last step
//   log:{<topic>}:<partition>             the last offset whose batch the state holds (never expires)
//   reviews                               hash sessionId → JSON review item (sessions held for a person)
// One server: one pipelined round trip loads a batch and one MULTI/EXEC writes all of it,
// the log position included. A cluster: the same commands grouped by hash slot (a pipeline
// and a MULTI per slot, all slots at once), and the log position written only after every
// slot's MULTI succeeded, so it never claims more than the state holds.

/** The ledger keeps the last records per business object, for this long after the last step. */
export const SOD_RECORDS_PER_KEY = 1000;
export const SOD_TTL_SECONDS = 90 * 86_400;
/** A baseline nobody has added to for this long is forgotten (it is learned again). */
export const BASELINE_TTL_SECONDS = 90 * 86_400;

export interface RedisStateOptions {
  readonly prefix: string;
  readonly sessionTtlSeconds: number;
  /** Observes each round trip (for the Redis latency histogram). */
  readonly onRoundTrip?: (op: "load" | "persist", seconds: number) => void;
}

/** A Redis client or a Redis Cluster client (ioredis `Redis` or `Cluster`). */
export type RedisClient = Pick<Redis, "pipeline" | "multi" | "ping" | "hlen" | "isCluster">;

/** The keys of one prefix, hash-tagged for Redis Cluster. */
export function stateKeys(prefix: string) {
  return {
    session: (id: string) => `${prefix}session:{${id}}`,
    baseline: (key: string) => `${prefix}baseline:{${key}}`,
    sod: (key: string) => `${prefix}sod:{${key}}`,
    log: (l: LogPartition) => `${prefix}log:{${l.topic}}:${l.partition}`,
    reviews: `${prefix}reviews`,
  };
}

interface Read {
  readonly key: string;
  readonly list?: boolean;
}
interface Write {
  readonly key: string;
  readonly add: (m: ChainableCommander) => void;
}

/** Indices grouped by the hash slot of their key; one group on a single server. */
function bySlot<T extends { key: string }>(items: readonly T[], cluster: boolean): number[][] {
  if (!cluster) return items.length > 0 ? [items.map((_, i) => i)] : [];
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const slot = calculateSlot(item.key);
    const g = groups.get(slot);
    if (g) g.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}

export function redisState(redis: RedisClient, o: RedisStateOptions): DurableState {
  const k = stateKeys(o.prefix);
  const cluster = redis.isCluster;
  const timed = async <T>(op: "load" | "persist", f: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      o.onRoundTrip?.(op, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };

  async function readAll(reads: readonly Read[]): Promise<unknown[]> {
    const values = new Array<unknown>(reads.length);
    await Promise.all(
      bySlot(reads, cluster).map(async (group) => {
        const p = redis.pipeline();
        for (const i of group) {
          const r = reads[i] as Read;
          if (r.list) p.lrange(r.key, -SOD_RECORDS_PER_KEY, -1);
          else p.get(r.key);
        }
        const results = (await p.exec()) ?? [];
        group.forEach((i, j) => {
          const [err, v] = results[j] ?? [new Error("missing reply"), null];
          if (err) throw err;
          values[i] = v;
        });
      }),
    );
    return values;
  }

  async function transaction(writes: readonly Write[]): Promise<void> {
    const m = redis.multi();
    for (const w of writes) w.add(m);
    const results = await m.exec();
    const failed = results?.find(([err]) => err);
    if (results === null || failed) throw new Error(`redis persist failed: ${failed?.[0]?.message ?? "transaction aborted"}`);
  }

  return {
    async load(req: LoadRequest): Promise<Loaded> {
      if (req.sessions.length + req.baselines.length + req.sodKeys.length === 0 && !req.log)
        return { sessions: new Map(), baselines: new Map(), sod: new Map() };
      return timed("load", async () => {
        const reads: Read[] = [
          ...req.sessions.map((id) => ({ key: k.session(id) })),
          ...req.baselines.map((b) => ({ key: k.baseline(baselineKey(b.kind, b.id)) })),
          ...req.sodKeys.map((key) => ({ key: k.sod(key), list: true })),
          ...(req.log ? [{ key: k.log(req.log) }] : []),
        ];
        const values = await readAll(reads);
        let i = 0;
        const sessions = new Map<string, SessionSnapshot>();
        for (const id of req.sessions) {
          const v = values[i++];
          if (typeof v === "string") sessions.set(id, JSON.parse(v) as SessionSnapshot);
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
        const through = req.log ? values[i] : undefined;
        return { sessions, baselines, sod, ...(typeof through === "string" ? { through } : {}) };
      });
    },
    async persist(c: Changes): Promise<void> {
      if (c.sessions.length + c.baselines.length + c.sodAppends.length + c.reviews.length === 0 && !c.log) return;
      await timed("persist", async () => {
        const writes: Write[] = [];
        for (const s of c.sessions) {
          const key = k.session(s.state.sessionId);
          const value = JSON.stringify(s);
          writes.push({ key, add: (m) => m.set(key, value, "EX", o.sessionTtlSeconds) });
        }
        for (const b of c.baselines) {
          const key = k.baseline(baselineKey(b.kind, b.id));
          const value = JSON.stringify(b.baseline);
          writes.push({ key, add: (m) => m.set(key, value, "EX", BASELINE_TTL_SECONDS) });
        }
        for (const a of c.sodAppends) {
          const key = k.sod(a.key);
          const value = JSON.stringify(a.record);
          writes.push({ key, add: (m) => m.rpush(key, value).ltrim(key, -SOD_RECORDS_PER_KEY, -1).expire(key, SOD_TTL_SECONDS) });
        }
        for (const r of c.reviews) {
          const value = JSON.stringify(r);
          writes.push({ key: k.reviews, add: (m) => m.hset(k.reviews, r.sessionId, value) });
        }
        const log = c.log;
        const position: Write | undefined = log ? { key: k.log(log), add: (m) => m.set(k.log(log), log.through) } : undefined;
        if (!cluster) return transaction(position ? [...writes, position] : writes);
        await Promise.all(bySlot(writes, true).map((group) => transaction(group.map((i) => writes[i] as Write))));
        if (position) await transaction([position]);
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
