import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { redisState } from "../../src/adapters/redis/redis-state.js";
import { baselineDelta } from "../../src/core/index.js";
import type { BaselineDelta } from "../../src/core/index.js";
import { redisUrl, uniqueName } from "../support/stack-env.js";
import { durableStateContract } from "./durable-state.contract.js";
import { learnedBaseline } from "./fixtures.js";

durableStateContract("redis", async () => {
  const redis = new Redis(redisUrl);
  const prefix = `${uniqueName("contract")}:`;
  return {
    state: redisState(redis, { prefix, sessionTtlSeconds: 600 }),
    close: async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
});

describe("Redis baseline merges by SHA", () => {
  it("loads the merge script once per connection, then sends its SHA; merges whole again after the server lost it", async () => {
    const redis = new Redis(redisUrl);
    const prefix = `${uniqueName("evalsha")}:`;
    // The real client, its MULTIs watched: which script commands each batch sends.
    const sent: string[][] = [];
    const watched = new Proxy(redis, {
      get(target, p, receiver) {
        if (p !== "multi") return Reflect.get(target, p, receiver) as unknown;
        return () => {
          const m = target.multi();
          const batch: string[] = [];
          sent.push(batch);
          for (const name of ["eval", "evalsha", "script"] as const) {
            const original = m[name].bind(m) as (...args: unknown[]) => unknown;
            (m as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => (batch.push(name), original(...args));
          }
          return m;
        };
      },
    });
    try {
      // Connected (before, with no socket yet, a merge goes whole).
      await redis.ping();
      const state = redisState(watched, { prefix, sessionTtlSeconds: 600 });
      const one = learnedBaseline();
      const delta = baselineDelta(undefined, one) as BaselineDelta;
      const merge = (through: number) =>
        state.persist({
          sessions: [],
          baselines: [{ kind: "agent", id: "a", delta }],
          sodAppends: [],
          cases: [],
          log: { topic: "t.sha", partition: 0, through: String(through), create: true },
        });
      await merge(1);
      await merge(2);
      // The server forgets its scripts (an operator's SCRIPT FLUSH): the MULTI's EVALSHA fails
      // NOSCRIPT and the merge is sent again whole, then the script is loaded again.
      await redis.script("FLUSH");
      await merge(3);
      await merge(4);
      expect(sent).toEqual([["script", "evalsha"], ["evalsha"], ["evalsha"], ["eval"], ["script", "evalsha"]]);
      const loaded = await state.load({ sessions: [], baselines: [{ kind: "agent", id: "a" }], sodKeys: [] });
      expect(loaded.baselines.get("agent:a")?.sessions).toBe(4 * one.sessions);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
