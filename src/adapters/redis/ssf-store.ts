import type { Cluster, Redis } from "ioredis";
import type { PushState, QueuedSet, SsfStore } from "../../app/ssf.js";
import type { StreamRecord } from "../../protocol/ssf.js";

// The SSF transmitter's streams and outboxes in Redis (one server or a Cluster). Keys, after
// the prefix; the part in {braces} is the Cluster hash tag, so one stream's keys share a slot
// and its enqueue is one atomic script:
//   ssf:{streams}                 hash streamId → JSON StreamRecord
//   ssf:{s:<id>}:q                sorted set jti → sequence number (the outbox, oldest first)
//   ssf:{s:<id>}:sets             hash jti → the signed SET
//   ssf:{s:<id>}:seen             sorted set jti → when queued (drops a re-read command's SET; the last SEEN_CAP, SEEN_DAYS)
//   ssf:{s:<id>}:seq              the outbox's sequence counter
//   ssf:{s:<id>}:push             hash failures, nextAtMs (push backoff)
//   ssf:{lock:<name>}             a lock (push delivery of a stream, verification rate)
// None of these expire: an outbox holds what a receiver has not taken yet, capped by
// VIGIL_SSF_MAX_QUEUED; deleting the stream deletes them.

export const SEEN_CAP = 200_000;
export const SEEN_DAYS = 7;

const ENQUEUE = `
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 'duplicate' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'full' end
local n = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[1], n, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[6]))
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, extra - 1) end
return 'queued'`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function redisSsfStore(redis: Redis | Cluster, prefix: string): SsfStore {
  const streamsKey = `${prefix}ssf:{streams}`;
  const k = (id: string) => {
    const s = `${prefix}ssf:{s:${id}}`;
    return { q: `${s}:q`, sets: `${s}:sets`, seen: `${s}:seen`, seq: `${s}:seq`, push: `${s}:push` };
  };
  const lockKey = (name: string) => `${prefix}ssf:{lock:${name}}`;
  const parse = (json: string): StreamRecord => JSON.parse(json) as StreamRecord;

  return {
    async putStream(s) {
      await redis.hset(streamsKey, s.streamId, JSON.stringify(s));
    },
    async getStream(id) {
      const json = await redis.hget(streamsKey, id);
      return json === null ? undefined : parse(json);
    },
    async listStreams() {
      return Object.values(await redis.hgetall(streamsKey)).map(parse);
    },
    async deleteStream(id) {
      const x = k(id);
      await redis.del(x.q, x.sets, x.seen, x.seq, x.push);
      await redis.hdel(streamsKey, id);
    },
    async enqueue(id, set, atMs, maxQueued) {
      const x = k(id);
      const r = await redis.eval(ENQUEUE, 4, x.q, x.sets, x.seen, x.seq, set.jti, set.token, atMs, maxQueued, SEEN_CAP, SEEN_DAYS * 86_400_000);
      return r as "queued" | "duplicate" | "full";
    },
    async peek(id, limit) {
      const x = k(id);
      const jtis = await redis.zrange(x.q, "0", String(limit - 1));
      if (jtis.length === 0) return [];
      const tokens = await redis.hmget(x.sets, ...jtis);
      const out: QueuedSet[] = [];
      const orphans: string[] = [];
      jtis.forEach((jti, i) => {
        const token = tokens[i];
        if (typeof token === "string") out.push({ jti, token });
        else orphans.push(jti);
      });
      if (orphans.length > 0) await redis.zrem(x.q, ...orphans);
      return out;
    },
    async remove(id, jtis) {
      if (jtis.length === 0) return 0;
      const x = k(id);
      const r = await redis
        .multi()
        .zrem(x.q, ...jtis)
        .hdel(x.sets, ...jtis)
        .exec();
      return Number(r?.[0]?.[1] ?? 0);
    },
    async clear(id) {
      const x = k(id);
      await redis.del(x.q, x.sets);
    },
    async size(id) {
      return redis.zcard(k(id).q);
    },
    async pushState(id): Promise<PushState> {
      const [failures, nextAtMs] = await redis.hmget(k(id).push, "failures", "nextAtMs");
      return { failures: Number(failures ?? 0), nextAtMs: Number(nextAtMs ?? 0) };
    },
    async setPushState(id, s) {
      await redis.hset(k(id).push, "failures", s.failures, "nextAtMs", s.nextAtMs);
    },
    async lock(name, owner, ttlMs) {
      return (await redis.set(lockKey(name), owner, "PX", ttlMs, "NX")) === "OK";
    },
    async unlock(name, owner) {
      await redis.eval(UNLOCK, 1, lockKey(name), owner);
    },
  };
}
