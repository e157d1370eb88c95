// Redis: the machine's when one answers, else Debian's redis-server started here (no
// persistence: a dev store).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { Redis } from "ioredis";
import { HOST, address, dirs, fail, logFile, pidFile, ports, redisUrl, tail, which } from "./config.mjs";
import { ourPid, portFree } from "./processes.mjs";

/** Whether Redis answers PING (with the credentials of VIGIL_REDIS_URL, if any). */
async function answers() {
  const url = new URL(redisUrl.href);
  url.port = String(ports.redis);
  const redis = new Redis(url.href, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export const redis = {
  name: "redis",
  logs: logFile.redis,
  log: logFile.redis,
  probe: answers,

  async preflight() {
    const answering = await answers();
    if (answering) return ourPid("redis") ? "running" : "external";
    const host = redisUrl.hostname || HOST;
    if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host))
      fail(`Redis at ${address.redis} does not answer PING and is not local, so this stack cannot start it (VIGIL_REDIS_URL)`);
    if (!(await portFree(ports.redis))) {
      fail(
        `port ${ports.redis} (Redis, VIGIL_REDIS_URL) is taken by something that does not answer PING.\n` +
          `  Find it: ss -ltnp 'sport = :${ports.redis}'   Fix: stop it, or point VIGIL_REDIS_URL at another port`,
      );
    }
    if (!which("redis-server")) fail("redis-server is not installed and no Redis answers. Fix: apt-get install -y redis-server");
    return "start";
  },

  provision() {},

  start() {
    fs.mkdirSync(dirs.redis, { recursive: true });
    fs.mkdirSync(dirs.logs, { recursive: true });
    fs.mkdirSync(dirs.run, { recursive: true });
    const args = [
      "--daemonize",
      "yes",
      "--bind",
      "127.0.0.1",
      "-::1",
      "--port",
      String(ports.redis),
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dirs.redis,
      "--pidfile",
      pidFile("redis"),
      "--logfile",
      logFile.redis,
    ];
    const r = spawnSync("redis-server", args, { encoding: "utf8" });
    if (r.status !== 0) fail(`redis-server failed to start (exit ${r.status}):\n${r.stdout}${r.stderr}\n${tail(logFile.redis)}`);
    return null; // the pid file appears once redis-server has daemonized
  },

  data: [dirs.redis],
  address: address.redis,
};
