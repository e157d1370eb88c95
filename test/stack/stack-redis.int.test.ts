// The stack's Redis through ioredis: plain set/get, a pipeline, and cleanup of every key written.
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { redisUrl, uniqueName } from "../support/stack-env.js";

const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
const prefix = `${uniqueName("vigil-int")}:`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("Redis (ioredis)", () => {
  it("sets and gets values under a unique prefix, pipelined too, and cleans up", async () => {
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.set(`${prefix}snapshot:s-1`, JSON.stringify({ offset: "41" }), "EX", 60)).toBe("OK");
    expect(JSON.parse((await redis.get(`${prefix}snapshot:s-1`)) ?? "null")).toEqual({ offset: "41" });

    const results = await redis.pipeline().set(`${prefix}a`, "1").incrby(`${prefix}a`, 41).hset(`${prefix}h`, { field: "v" }).exec();
    expect(results?.map(([err]) => err)).toEqual([null, null, null]);
    expect(await redis.get(`${prefix}a`)).toBe("42");
    expect(await redis.hget(`${prefix}h`, "field")).toBe("v");

    const keys = await redis.keys(`${prefix}*`);
    expect(keys.sort()).toEqual([`${prefix}a`, `${prefix}h`, `${prefix}snapshot:s-1`].sort());
    expect(await redis.del(...keys)).toBe(3);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
  });
});
