import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import calculateSlot from "cluster-key-slot";
import { redisState, stateKeys } from "../../src/adapters/redis/redis-state.js";
import { baselineDelta, initialSession } from "../../src/core/index.js";
import type { BaselineDelta } from "../../src/core/index.js";
import { redisClusterNodes, uniqueName } from "../support/stack-env.js";
import { durableStateContract } from "./durable-state.contract.js";
import { learnedBaseline, sodRecord } from "./fixtures.js";

// The same DurableState contract against a real three-master Redis Cluster (started by the
// global setup: scripts/stack up --redis-cluster): state keys are hash-tagged per session,
// and each batch's reads and writes are grouped by slot.

const nodes = redisClusterNodes.map((n) => ({ host: n.split(":")[0] as string, port: Number(n.split(":")[1]) }));

async function cleanup(cluster: Cluster, prefix: string) {
  await Promise.all(
    cluster.nodes("master").map(async (node) => {
      const keys = await node.keys(`${prefix}*`);
      for (const key of keys) await node.del(key);
    }),
  );
}

durableStateContract("redis cluster", async () => {
  const cluster = new Cluster(nodes);
  const prefix = `${uniqueName("contract")}:`;
  return {
    state: redisState(cluster, { prefix, sessionTtlSeconds: 600 }),
    close: async () => {
      await cleanup(cluster, prefix);
      cluster.disconnect();
    },
  };
});

describe("Redis Cluster layout", () => {
  it("keeps one session's key in its hash-tag slot, and writes a batch spread over every master", async () => {
    const cluster = new Cluster(nodes);
    const prefix = `${uniqueName("slots")}:`;
    try {
      const k = stateKeys(prefix);
      expect(calculateSlot(k.session("s-1"))).toBe(calculateSlot("s-1"));
      const state = redisState(cluster, { prefix, sessionTtlSeconds: 600 });
      const ids = Array.from({ length: 200 }, (_, i) => `s-${i}`);
      const snapshots = ids.map((id) => ({
        state: { ...initialSession({ sessionId: id, agent: { id: "a" }, principal: { id: "p" } }), started: true },
        partition: 0,
        offset: "9",
      }));
      await state.persist({ sessions: snapshots, baselines: [], sodAppends: [], cases: [], log: { topic: "t", partition: 0, through: "9", create: true } });
      const perMaster = await Promise.all(cluster.nodes("master").map(async (n) => (await n.keys(`${prefix}session:*`)).length));
      expect(perMaster).toHaveLength(3);
      for (const n of perMaster) expect(n).toBeGreaterThan(20);
      expect(perMaster.reduce((a, b) => a + b, 0)).toBe(200);
      const loaded = await state.load({ sessions: ids, baselines: [], sodKeys: [], log: { topic: "t", partition: 0 } });
      expect(loaded.sessions.size).toBe(200);
      expect(loaded.through).toBe("9");
    } finally {
      await cleanup(cluster, prefix);
      cluster.disconnect();
    }
  });
});

/** The cluster, but every MULTI after the first `succeed` fails without writing anything: a processor killed mid-persist. */
function crashingAfter(cluster: Cluster, succeed: number): Cluster {
  let calls = 0;
  return new Proxy(cluster, {
    get(target, prop, receiver) {
      if (prop === "multi")
        return () => {
          const m = target.multi();
          if (++calls > succeed) m.exec = async () => Promise.reject(new Error("killed"));
          return m;
        };
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe("Redis Cluster: a batch persisted across slots is all or nothing", () => {
  const batch = (ids: readonly string[]) => ({
    sessions: ids.map((id) => ({
      state: { ...initialSession({ sessionId: id, agent: { id: "a" }, principal: { id: "p" } }), started: true },
      partition: 0,
      offset: "41",
    })),
    baselines: [{ kind: "agent" as const, id: "a", delta: baselineDelta(undefined, learnedBaseline()) as BaselineDelta }],
    sodAppends: [{ key: "expense|ER-1", record: sodRecord("e-41") }],
    cases: [],
    log: { topic: "t", partition: 0, through: "41", create: true },
  });
  const ids = Array.from({ length: 30 }, (_, i) => `s-${i}`);
  const slots = new Set([...ids.map((id) => calculateSlot(id)), calculateSlot("agent:a"), calculateSlot("expense|ER-1")]).size;

  for (const [what, succeed] of [
    ["killed after the journal and one slot", 2],
    ["killed after every slot, before the position", 1 + slots],
  ] as const) {
    it(`${what}: the next load applies the journal first, appends once, and records the position`, async () => {
      const cluster = new Cluster(nodes);
      const prefix = `${uniqueName("journal")}:`;
      try {
        const rolled: number[] = [];
        await expect(redisState(crashingAfter(cluster, succeed), { prefix, sessionTtlSeconds: 600 }).persist(batch(ids))).rejects.toThrow(/killed/);
        const k = stateKeys(prefix);
        expect(await cluster.get(k.log({ topic: "t", partition: 0 }))).toBeNull();
        expect(await cluster.exists(k.journal({ topic: "t", partition: 0 }))).toBe(1);
        const state = redisState(cluster, { prefix, sessionTtlSeconds: 600, onRolledForward: (n) => rolled.push(n) });
        const loaded = await state.load({
          sessions: ids,
          baselines: [{ kind: "agent", id: "a" }],
          sodKeys: ["expense|ER-1"],
          log: { topic: "t", partition: 0 },
        });
        expect(rolled).toEqual([ids.length + 2]);
        expect(loaded.sessions.size).toBe(ids.length);
        expect(loaded.baselines.get("agent:a")).toEqual(learnedBaseline());
        expect(loaded.sod.get("expense|ER-1")).toEqual([sodRecord("e-41")]);
        expect(loaded.through).toBe("41");
        expect(await cluster.exists(k.journal({ topic: "t", partition: 0 }))).toBe(0);
        // Nothing left to apply: the next load reads as usual.
        await state.load({ sessions: [], baselines: [], sodKeys: [], log: { topic: "t", partition: 0 } });
        expect(rolled).toHaveLength(1);
      } finally {
        await cleanup(cluster, prefix);
        cluster.disconnect();
      }
    });
  }
});
