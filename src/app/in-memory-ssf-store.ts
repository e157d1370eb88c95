import type { PushState, QueuedSet, SsfStore } from "./ssf.js";
import type { StreamRecord } from "../protocol/ssf.js";

/** The SSF store in memory (unit tests and offline tools); the same contract as the Redis store, time from `now`. */
export function inMemorySsfStore(now: () => number): SsfStore {
  const streams = new Map<string, StreamRecord>();
  const outboxes = new Map<string, Map<string, string>>(); // insertion-ordered: oldest first
  const seen = new Map<string, Set<string>>();
  const push = new Map<string, PushState>();
  const locks = new Map<string, { owner: string; until: number }>();
  const outbox = (id: string) => outboxes.get(id) ?? outboxes.set(id, new Map()).get(id)!;
  return {
    async putStream(s) {
      streams.set(s.streamId, s);
    },
    async getStream(id) {
      return streams.get(id);
    },
    async listStreams() {
      return [...streams.values()];
    },
    async deleteStream(id) {
      streams.delete(id);
      outboxes.delete(id);
      seen.delete(id);
      push.delete(id);
    },
    async enqueue(id, set, _atMs, maxQueued) {
      const s = seen.get(id) ?? seen.set(id, new Set()).get(id)!;
      if (s.has(set.jti)) return "duplicate";
      const q = outbox(id);
      if (q.size >= maxQueued) return "full";
      q.set(set.jti, set.token);
      s.add(set.jti);
      return "queued";
    },
    async peek(id, limit) {
      const out: QueuedSet[] = [];
      for (const [jti, token] of outbox(id)) {
        if (out.length >= limit) break;
        out.push({ jti, token });
      }
      return out;
    },
    async remove(id, jtis) {
      const q = outbox(id);
      let n = 0;
      for (const jti of new Set(jtis)) if (q.delete(jti)) n++;
      return n;
    },
    async clear(id) {
      outboxes.delete(id);
    },
    async size(id) {
      return outbox(id).size;
    },
    async pushState(id) {
      return push.get(id) ?? { failures: 0, nextAtMs: 0 };
    },
    async setPushState(id, s) {
      push.set(id, s);
    },
    async lock(name, owner, ttlMs) {
      const held = locks.get(name);
      if (held && held.until > now()) return false;
      locks.set(name, { owner, until: now() + ttlMs });
      return true;
    },
    async unlock(name, owner) {
      if (locks.get(name)?.owner === owner) locks.delete(name);
    },
  };
}
