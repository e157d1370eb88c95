// vitest globalSetup of the "integration" project: makes sure Kafka, the schema registry and
// Redis answer before any *.int.test.ts / *.e2e.test.ts runs. Whatever does not answer is
// started with scripts/stack.mjs (npm run stack:up); at teardown only what THIS setup started
// is stopped again (set VIGIL_STACK_KEEP=1 to leave it running for the next run).
// A service that still does not answer is an error, never a skip.
import { spawnSync } from "node:child_process";
import kafkajs from "kafkajs";
import { Redis } from "ioredis";
import { brokers, redisUrl, registryUrl, repoRoot, stackScript } from "./stack-env.js";

type Service = "kafka" | "registry" | "redis";
const SERVICES: Service[] = ["kafka", "registry", "redis"];

async function kafkaAnswers(): Promise<boolean> {
  const kafka = new kafkajs.Kafka({
    clientId: "vigil-global-setup",
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function registryAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(3000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

const probes: Record<Service, () => Promise<boolean>> = {
  kafka: kafkaAnswers,
  registry: registryAnswers,
  redis: redisAnswers,
};

async function missingServices(): Promise<Service[]> {
  const ok = await Promise.all(SERVICES.map((s) => probes[s]()));
  return SERVICES.filter((_, i) => !ok[i]);
}

function runStack(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [stackScript, ...args], { cwd: repoRoot, encoding: "utf8", env: process.env });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

const where: Record<Service, string> = {
  kafka: `Kafka at ${brokers.join(",")} (VIGIL_KAFKA_BROKERS)`,
  registry: `schema registry at ${registryUrl} (VIGIL_REGISTRY_URL)`,
  redis: `Redis at ${redisUrl} (VIGIL_REDIS_URL)`,
};

export default async function setup(): Promise<() => Promise<void>> {
  const missing = await missingServices();
  let started: Service[] = [];
  if (missing.length > 0) {
    process.stdout.write(`[global-setup] not answering: ${missing.join(", ")}; running scripts/stack.mjs up ${missing.join(" ")}\n`);
    const t0 = Date.now();
    const r = runStack(["up", ...missing]);
    process.stdout.write(r.output);
    // Whatever the stack started is ours to stop, even if `up` failed half-way.
    started = missing;
    if (r.status !== 0) {
      runStack(["down", ...started]);
      throw new Error(`[global-setup] npm run stack:up failed (exit ${r.status}); see the output above.\n${r.output}`);
    }
    process.stdout.write(`[global-setup] stack up in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  }
  const stillMissing = await missingServices();
  if (stillMissing.length > 0) {
    if (started.length > 0) runStack(["down", ...started]);
    throw new Error(
      `[global-setup] integration tests need ${stillMissing.map((s) => where[s]).join("; ")}, and it does not answer` +
        ` even after scripts/stack.mjs up. Check npm run stack:status and the logs under .stack/logs.`,
    );
  }
  return async () => {
    if (started.length === 0 || process.env.VIGIL_STACK_KEEP === "1") return;
    const r = runStack(["down", ...started]);
    process.stdout.write(r.output);
  };
}
