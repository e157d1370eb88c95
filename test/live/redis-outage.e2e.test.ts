import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import { Redis } from "ioredis";
import { collect, freePort, isolatedEnv, jsonValues, produce } from "../support/live.js";

// Redis unavailable: the processor backs off, /readyz says not ready, and when Redis is
// back it resumes from the last committed offset without losing or skipping events. A
// real redis-server of the test's own, stopped and started again (never the machine's).

/** Starts redis-server on `port` and resolves once it answers PING (a probe, not a fixed wait). */
async function redisServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "60 1", "--appendonly", "yes", "--dir", dir], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const probe = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      connectTimeout: 500,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    probe.on("error", () => undefined);
    const pong = await probe
      .connect()
      .then(
        () => probe.ping(),
        () => undefined,
      )
      .catch(() => undefined);
    probe.disconnect();
    if (pong === "PONG") return child;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const event = (n: number, extra: object) =>
  JSON.stringify({ eventId: `ro-${n}`, sessionId: `ro-${n}`, time: "2026-11-28T09:00:00Z", agent: { id: "a" }, principal: { id: "p" }, ...extra });
const secretsReach = (n: number) => [
  { key: `ro-${n}`, value: event(n, { type: "session.started", eventId: `ro-${n}#0`, intent: { goal: "read the wiki", capabilities: ["wiki.read"] } }) },
  {
    key: `ro-${n}`,
    value: event(n, { type: "action", eventId: `ro-${n}#1`, action: { capability: "secrets.read" }, resource: { id: "prod/db", sensitivity: ["secret"] } }),
  },
];
const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

describe("Redis outage", () => {
  it("is reported by /readyz and survived without losing events", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dir = mkdtempSync(`${tmpdir()}/vigil-redis-`);
    let redis = await redisServer(port, dir);
    const env = isolatedEnv("redis-outage", { VIGIL_REDIS_URL: `redis://127.0.0.1:${port}` });
    const config = loadConfig(env);
    const running = await startVigil(env);
    try {
      await produce(config.topics.events, secretsReach(1));
      await collect(config.topics.commands, (m) => m.length >= 1, 30_000);
      expect(await ready(running.httpPort)).toBe(200);

      redis.kill("SIGTERM");
      await new Promise((r) => redis.once("exit", r));
      await produce(config.topics.events, secretsReach(2));
      const deadline = Date.now() + 30_000;
      while ((await ready(running.httpPort)) !== 503 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await ready(running.httpPort)).toBe(503);

      redis = await redisServer(port, dir);
      await produce(config.topics.events, secretsReach(3));
      const commands = jsonValues<{ sessionId: string; type: string }>(
        await collect(config.topics.commands, (m) => new Set(m.map((x) => x.key)).size >= 3, 60_000),
      );
      expect([...new Set(commands.map((c) => c.sessionId))].sort()).toEqual(["ro-1", "ro-2", "ro-3"]);
      expect(commands.every((c) => c.type === "revoke")).toBe(true);
      const back = Date.now() + 30_000;
      while ((await ready(running.httpPort)) !== 200 && Date.now() < back) await new Promise((r) => setTimeout(r, 250));
      expect(await ready(running.httpPort)).toBe(200);
    } finally {
      await running.stop();
      redis.kill("SIGTERM");
    }
  });
});
