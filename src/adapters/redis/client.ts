import { Cluster, Redis } from "ioredis";

// The one way Vigil connects to Redis: the processor's state, the review CLI and the SSF
// store use the same settings (docs/operations.md, VIGIL_REDIS_URL and VIGIL_REDIS_CLUSTER).

/** One Redis, or a Redis Cluster (VIGIL_REDIS_CLUSTER) with VIGIL_REDIS_URL's credentials and TLS. */
export function redisClient(c: { url: string; cluster?: readonly string[] | undefined }): Redis | Cluster {
  const retryStrategy = (n: number) => Math.min(n * 200, 5000);
  if (!c.cluster) return new Redis(c.url, { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy });
  const url = new URL(c.url);
  const nodes = c.cluster.map((n) => {
    const i = n.lastIndexOf(":");
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
  return new Cluster(nodes, {
    lazyConnect: true,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      maxRetriesPerRequest: 2,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    },
  });
}
