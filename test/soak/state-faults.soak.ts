import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { Config } from "../../src/config/config.js";
import type { Command } from "../../src/protocol/index.js";
import { exited, replicatedScenarios, startProcessor } from "../support/processes.js";
import type { Seeded } from "../support/processes.js";
import { committedOffsets, freePort, isolatedEnv, jsonValues, metric, readAll, seedTopic, untilProcessed } from "../support/live.js";
import { repoRoot, stackScript } from "../support/stack-env.js";
import { expectSameCommands } from "../support/same-commands.js";

// Infrastructure fails under a running processor, against the real stack (`npm run
// test:soak`). 200,000 events of the replicated demo scenarios on three partitions, one
// processor with a Redis of its own (Debian's redis-server, started here with RDB dumps on
// demand), and mid-stream, one after the other:
//   1. Redis restarted (SHUTDOWN SAVE, start again): nothing lost, batches wait and retry;
//   2. Redis restarted from an older dump (SAVE, later SHUTDOWN NOSAVE, start again): the
//      state is behind what was committed and is rebuilt from the log;
//   3. Redis flushed (FLUSHALL): nothing recorded, the state is rebuilt from the log's start;
//   4. the broker restarted (the stack's own Kafka: stack down kafka, stack up kafka).
// The commands must equal an uninterrupted run's: the same ids, the same content, none
// missing, none extra.

const EVENTS = 200_000;
const PARTITIONS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A redis-server of this test's own, on a free port, dumping to `dir` only when told. */
class OwnRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), "vigil-soak-redis-"));
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const t0 = Date.now();
    for (;;) {
      const r = spawnSync("redis-cli", ["-p", String(this.port), "ping"], { encoding: "utf8" });
      if (r.stdout.trim() === "PONG") return;
      if (Date.now() - t0 > 30_000) throw new Error(`redis-server on ${this.port} did not answer`);
      await sleep(50);
    }
  }
  cli(...args: string[]): string {
    const r = spawnSync("redis-cli", ["-p", String(this.port), ...args], { encoding: "utf8" });
    return `${r.stdout}${r.stderr}`.trim();
  }
  /** SHUTDOWN SAVE or NOSAVE, and wait for the process to end. */
  async shutdown(how: "SAVE" | "NOSAVE"): Promise<void> {
    const child = this.child;
    this.cli("shutdown", how);
    if (child) await exited(child);
  }
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    child?.kill("SIGKILL");
    if (child) await exited(child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function stack(...args: string[]): string {
  const r = spawnSync(process.execPath, [stackScript, ...args], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/stack ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const seed = (config: Config, messages: readonly Seeded[]) => seedTopic(config.topics.events, messages, PARTITIONS);

/** Committed events so far (0 while the broker cannot answer). */
async function committed(config: Config): Promise<number> {
  try {
    return [...(await committedOffsets(config.kafka.groupId, config.topics.events)).values()].reduce((a, b) => a + Math.max(0, b), 0);
  } catch {
    return 0;
  }
}

const envFor = (name: string, redisUrl?: string) =>
  isolatedEnv(name, {
    VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000",
    VIGIL_TOPIC_PARTITIONS: String(PARTITIONS),
    VIGIL_FETCH_MAX_BYTES_PER_PARTITION: "65536",
    ...(redisUrl ? { VIGIL_REDIS_URL: redisUrl } : {}),
  });

describe("Redis and the broker fail mid-stream (soak)", () => {
  it(`Redis restarted, restarted from an older dump and flushed, then the broker restarted, over ${EVENTS.toLocaleString("en")} events: the same commands`, async () => {
    const owner = (JSON.parse(stack("status", "--json")) as { service: string; owner: string }[]).find((r) => r.service === "kafka")?.owner;
    if (owner !== "stack") throw new Error("this test restarts the broker, so it needs the stack's own Kafka (npm run stack:up), not an external one");
    const messages = replicatedScenarios(EVENTS, PARTITIONS);

    // The uninterrupted run, on the machine's Redis.
    const cleanEnv = envFor("soak-state-clean");
    const cleanConfig = loadConfig(cleanEnv);
    await seed(cleanConfig, messages);
    const t0 = Date.now();
    const clean = startProcessor(cleanEnv);
    await untilProcessed(cleanConfig.kafka.groupId, cleanConfig.topics.events, 900_000);
    clean.kill("SIGTERM");
    await exited(clean);
    const cleanSeconds = (Date.now() - t0) / 1000;
    const want = jsonValues<Command>(await readAll(cleanConfig.topics.commands, 120_000));

    const redis = new OwnRedis(await freePort());
    onTestFinished(() => redis.close());
    await redis.start();
    const httpPort = await freePort();
    // Warnings too: the processor's log of the run goes to .stack/logs/soak-state-faults.log.
    const env = { ...envFor("soak-state-faults", redis.url), VIGIL_HTTP_PORT: String(httpPort), VIGIL_LOG_LEVEL: "warn" };
    mkdirSync(join(repoRoot, ".stack", "logs"), { recursive: true });
    const logFile = createWriteStream(join(repoRoot, ".stack", "logs", "soak-state-faults.log"));
    const config = loadConfig(env);
    await seed(config, messages);
    const log: string[] = [];
    const t1 = Date.now();
    const at = async (share: number) => {
      while ((await committed(config)) < messages.length * share) {
        if (Date.now() - t1 > 1_200_000) throw new Error(`stuck below ${share * 100}% of the events: ${log.join("; ")}`);
        await sleep(50);
      }
    };
    const step = async (what: string, f: () => Promise<void>) => {
      const s = Date.now();
      const before = await committed(config);
      await f();
      log.push(`${what} at ${before} committed (${((Date.now() - s) / 1000).toFixed(1)} s)`);
    };
    const child = startProcessor(env);
    const seen = { rebuilt: -1, flushedAt: 0 };
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      logFile.write(b);
      stderr = (stderr + b.toString("utf8")).slice(-20_000);
    });
    try {
      await at(0.1);
      await step("Redis restarted (SHUTDOWN SAVE)", async () => {
        await redis.shutdown("SAVE");
        await sleep(1000);
        await redis.start();
      });
      await at(0.3);
      expect(redis.cli("save")).toBe("OK");
      const dumpedAt = await committed(config);
      await at(0.45);
      await step(`Redis restarted from the dump taken at ${dumpedAt} committed (SHUTDOWN NOSAVE)`, async () => {
        await redis.shutdown("NOSAVE");
        await redis.start();
      });
      await at(0.6);
      seen.flushedAt = await committed(config);
      await step("Redis flushed (FLUSHALL)", async () => {
        expect(redis.cli("flushall")).toBe("OK");
      });
      await at(0.8);
      await step("broker restarted (stack down kafka; stack up kafka)", async () => {
        stack("down", "kafka");
        stack("up", "kafka");
      });
      // Right after the broker's restart, admin requests may fail for a while: `committed` reads 0 then.
      await at(1);
      seen.rebuilt = await metric(httpPort, "vigil_state_rebuilt_events_total");
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nprocessor stderr (last lines):\n${stderr.split("\n").slice(-30).join("\n")}`, {
        cause: e,
      });
    } finally {
      child.kill("SIGTERM");
      await exited(child);
    }
    const faultySeconds = (Date.now() - t1) / 1000;
    const keys = redis.cli("dbsize");
    logFile.end();
    const got = jsonValues<Command>(await readAll(config.topics.commands, 120_000));
    process.stdout.write(
      `state faults: ${messages.length} events on ${PARTITIONS} partitions; uninterrupted ${cleanSeconds.toFixed(0)} s, with faults ${faultySeconds.toFixed(0)} s; ` +
        `${log.join("; ")}; events re-read to rebuild state ${seen.rebuilt}; Redis keys at the end ${keys}; ` +
        `${want.length} commands, ${got.length} records (${got.length - new Set(got.map((c) => c.commandId)).size} repeats)\n`,
    );
    // After the flush, everything committed before it was re-read; after the older dump, some more.
    expect(seen.rebuilt).toBeGreaterThan(seen.flushedAt);
    expect(seen.flushedAt).toBeGreaterThanOrEqual(messages.length * 0.6);
    expectSameCommands(got, want);
  });
});
