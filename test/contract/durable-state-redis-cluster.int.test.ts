import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import calculateSlot from "cluster-key-slot";
import { redisState, stateKeys } from "../../src/adapters/redis/redis-state.js";
import { initialSession } from "../../src/core/index.js";
import { redisClusterNodes, uniqueName } from "../support/stack-env.js";
import { durableStateContract } from "./durable-state.contract.js";

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
