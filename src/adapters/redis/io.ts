import { createHash } from "node:crypto";
import type { ChainableCommander } from "ioredis";
import calculateSlot from "cluster-key-slot";
import { MERGE_BASELINE } from "./baseline-merge.js";
import type { RedisClient } from "./keys.js";
import { SOD_RECORDS_PER_KEY } from "./keys.js";

// Redis reads and writes as data: a batch's writes can then be grouped by hash slot (a
// cluster: a pipeline and a MULTI per slot), applied in one MULTI (one server), or kept in
// a journal and applied again (journal.ts).

export interface Read {
  readonly key: string;
  readonly list?: boolean | number;
  readonly hash?: boolean;
}
/** One Redis write as data: applied in a MULTI, and kept in a cluster batch's journal to be applied again after a crash. */
export type Op =
  | { readonly c: "set"; readonly key: string; readonly value: string; readonly ex: number }
  | { readonly c: "rpush"; readonly key: string; readonly value: string; readonly keep: number; readonly ex?: number }
  | { readonly c: "hset"; readonly key: string; readonly fields: Readonly<Record<string, string>> }
  | { readonly c: "expire"; readonly key: string; readonly seconds: number }
  | { readonly c: "zadd"; readonly key: string; readonly score: number; readonly member: string }
  | { readonly c: "zrem"; readonly key: string; readonly member: string }
  | { readonly c: "zcut"; readonly key: string; readonly below: number }
  /** A baseline delta merged into the stored baseline (MERGE_BASELINE); `mark` '' when the batch has no log position. */
  | {
      readonly c: "merge";
      readonly key: string;
      readonly meta: string;
      readonly delta: string;
      readonly mark: string;
      readonly through: string;
      readonly ex: number;
    };

/** Writes to one key's slot (`key` decides the slot; every op's key shares its hash tag). */
export interface Write {
  readonly key: string;
  readonly ops: readonly Op[];
}

/** MERGE_BASELINE's SHA-1, what EVALSHA names it by. */
export const MERGE_BASELINE_SHA = createHash("sha1").update(MERGE_BASELINE).digest("hex");

/**
 * Adds `op`'s commands to the MULTI; returns how many. A merge is sent as EVALSHA, by the
 * script's SHA-1 (40 bytes instead of the script's 2.5 KB), unless `whole`: the caller makes
 * sure the server has the script (redisIo's transaction).
 */
export function addOp(m: ChainableCommander, op: Joined, whole = false): number {
  switch (op.c) {
    case "set":
      m.set(op.key, op.value, "EX", op.ex);
      return 1;
    case "rpush":
      m.rpush(op.key, op.value, ...("more" in op && op.more ? op.more : [])).ltrim(op.key, -op.keep, -1);
      if (op.ex === undefined) return 2;
      m.expire(op.key, op.ex);
      return 3;
    case "hset":
      m.hset(op.key, op.fields);
      return 1;
    case "expire":
      m.expire(op.key, op.seconds);
      return 1;
    case "zadd":
      m.zadd(op.key, op.score, op.member);
      return 1;
    case "zrem":
      m.zrem(op.key, op.member);
      return 1;
    case "zcut":
      m.zremrangebyscore(op.key, "-inf", op.below);
      return 1;
    case "merge":
      if (whole) m.eval(MERGE_BASELINE, 2, op.key, op.meta, op.delta, op.mark, op.through, op.ex);
      else m.evalsha(MERGE_BASELINE_SHA, 2, op.key, op.meta, op.delta, op.mark, op.through, op.ex);
      return 1;
    default: {
      const _exhaustive: never = op;
      return _exhaustive;
    }
  }
}

type Append = Extract<Op, { c: "rpush" }>;
/** Appends to one list joined (joinAppends): its first op's values and then `more`. Built for a MULTI, never journaled. */
export type Joined = Exclude<Op, Append> | (Append & { readonly more?: readonly string[] });

/**
 * The writes' ops in order, but each list's appends joined into one RPUSH of all its values
 * (in order, where its first append was), so a list gets one RPUSH, LTRIM and EXPIRE per
 * MULTI instead of one of each per value: a review case's timeline gains several entries a
 * batch. The list ends the same (the last `keep` of all its values); nothing else in a MULTI
 * writes to a list.
 */
export function joinAppends(writes: readonly Write[]): Joined[] {
  const out: Joined[] = [];
  const open = new Map<string, { at: number; first: Append; more: string[] }>();
  const close = (g: { at: number; first: Append; more: string[] }) => {
    if (g.more.length > 0) out[g.at] = { ...g.first, more: g.more };
  };
  for (const w of writes)
    for (const op of w.ops) {
      if (op.c !== "rpush") {
        out.push(op);
        continue;
      }
      const g = open.get(op.key);
      if (g && g.first.keep === op.keep && g.first.ex === op.ex) {
        g.more.push(op.value);
        continue;
      }
      if (g) close(g);
      open.set(op.key, { at: out.length, first: op, more: [] });
      out.push(op);
    }
  for (const g of open.values()) close(g);
  return out;
}

const isNoScript = (e: Error | null): boolean => e !== null && e.message.startsWith("NOSCRIPT");

/** An append applied again only when the list's tail does not hold it already (a journal replayed after a crash). */
export const RPUSH_ONCE = `
if redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1, 'MAXLEN', tonumber(ARGV[2])) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1`;

/** Indices grouped by the hash slot of their key; one group on a single server. */
export function bySlot<T extends { key: string }>(items: readonly T[], cluster: boolean): number[][] {
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

/** Reads and MULTI writes on one server or a cluster (grouped by slot, all slots at once). */
export function redisIo(redis: RedisClient) {
  const cluster = redis.isCluster;

  async function readAll(reads: readonly Read[]): Promise<unknown[]> {
    const values = new Array<unknown>(reads.length);
    await Promise.all(
      bySlot(reads, cluster).map(async (group) => {
        const p = redis.pipeline();
        for (const i of group) {
          const r = reads[i] as Read;
          if (r.hash) p.hgetall(r.key);
          else if (r.list) p.lrange(r.key, typeof r.list === "number" ? -r.list : -SOD_RECORDS_PER_KEY, -1);
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

  // The connections known to hold MERGE_BASELINE: one server's socket, or a cluster master's
  // address. A MULTI with a merge for a connection not in it loads the script first, in the
  // same MULTI (SCRIPT LOAD, not EVAL: Redis 7.4 evicts scripts loaded by EVAL, never those
  // loaded by SCRIPT LOAD). A reconnect is a new socket, a failover another master, so both
  // load it again; while not connected, merges go whole.
  const loaded = new WeakSet<object>();
  const masters = new Map<string, object>();
  const connectionOf = (key: string | undefined): object | undefined => {
    // Not connected: the MULTI would wait for a socket whose server may lack the script.
    if ((redis as { status?: string }).status !== "ready") return undefined;
    if (!cluster) return (redis as { stream?: object }).stream;
    const slots = (redis as { slots?: readonly (readonly string[])[] }).slots;
    const master = key === undefined ? undefined : slots?.[calculateSlot(key)]?.[0];
    if (master === undefined) return undefined;
    let known = masters.get(master);
    if (known === undefined) masters.set(master, (known = { master }));
    return known;
  };

  async function transaction(writes: readonly Write[], extra?: (m: ChainableCommander) => void): Promise<void> {
    const m = redis.multi();
    const merges: { at: number; op: Joined }[] = [];
    const connection = writes.some((w) => w.ops.some((op) => op.c === "merge")) ? connectionOf(writes[0]?.key) : undefined;
    const load = connection !== undefined && !loaded.has(connection);
    if (load) m.script("LOAD", MERGE_BASELINE);
    let at = load ? 1 : 0;
    for (const op of joinAppends(writes)) {
      if (op.c === "merge") merges.push({ at, op });
      at += addOp(m, op, connection === undefined);
    }
    extra?.(m);
    const results = await m.exec();
    if (results === null) throw new Error("redis persist failed: transaction aborted");
    // NOSCRIPT: the server lost the script since it was loaded (an operator's SCRIPT FLUSH, or
    // a restart while this MULTI waited to be sent; else a restart is a new socket). Every other write of the MULTI is applied, so the merges are
    // sent again whole at once, each still marked with its offset: none is merged twice. A
    // crash between the two MULTIs would lose those merges (the position is written): the
    // one case where a single server's batch is not whole or nothing (docs/operations.md).
    const lost = merges.filter(({ at }) => isNoScript(results[at]?.[0] ?? null));
    const failed = results.find(([err], i) => err && !lost.some((l) => l.at === i));
    if (failed) throw new Error(`redis persist failed: ${failed[0]?.message ?? "unknown error"}`);
    if (lost.length > 0) {
      if (connection !== undefined) loaded.delete(connection);
      const again = redis.multi();
      for (const { op } of lost) addOp(again, op, true);
      const retried = await again.exec();
      const still = retried === null ? undefined : retried.find(([err]) => err);
      if (retried === null || still) throw new Error(`redis persist failed: ${still?.[0]?.message ?? "transaction aborted"}`);
    } else if (load && connection !== undefined) loaded.add(connection);
  }

  return { cluster, readAll, transaction };
}

export type RedisIo = ReturnType<typeof redisIo>;
