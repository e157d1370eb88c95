import { Cluster, Redis } from "ioredis";
import { redisSsfStore } from "../../src/adapters/redis/ssf-store.js";
import { redisClusterNodes, redisUrl, uniqueName } from "../support/stack-env.js";
import { ssfStoreContract } from "./ssf-store.contract.js";

const cleanup = async (redis: Redis, prefix: string) => {
  const keys = await redis.keys(`${prefix}*`);
  for (const key of keys) await redis.del(key); // one by one: a cluster node refuses a DEL across slots
};

ssfStoreContract("redis", async () => {
  const redis = new Redis(redisUrl);
  const prefix = `${uniqueName("ssf-contract")}:`;
  return {
    store: redisSsfStore(redis, prefix),
    close: async () => {
      await cleanup(redis, prefix);
      redis.disconnect();
    },
  };
});

ssfStoreContract("redis cluster", async () => {
  const cluster = new Cluster(redisClusterNodes.map((n) => ({ host: n.split(":")[0] as string, port: Number(n.split(":")[1]) })));
  const prefix = `${uniqueName("ssf-contract")}:`;
  return {
    store: redisSsfStore(cluster, prefix),
    close: async () => {
      for (const node of cluster.nodes("master")) await cleanup(node, prefix);
      cluster.disconnect();
    },
  };
});
