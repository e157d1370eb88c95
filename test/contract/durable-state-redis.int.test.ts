import { Redis } from "ioredis";
import { redisState } from "../../src/adapters/redis/redis-state.js";
import { redisUrl, uniqueName } from "../support/stack-env.js";
import { durableStateContract } from "./durable-state.contract.js";

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
