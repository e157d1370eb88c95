// vitest globalSetup of the "integration" and "stack" projects: makes sure Kafka, the schema
// registry, Redis and a local Redis Cluster (for the cluster contract and soak runs) answer (asking `scripts/stack status --json`, whose probes use kafkajs,
// fetch and ioredis) before any of their tests runs. Whatever does not answer is started
// with scripts/stack (npm run stack:up); at teardown only what THIS setup started
// is stopped again (set VIGIL_STACK_KEEP=1 to leave it running for the next run).
// A service that still does not answer is an error, never a skip.
import { spawnSync } from "node:child_process";
import { brokers, redisClusterNodes, redisUrl, registryUrl, repoRoot, stackScript } from "./stack-env.js";

type Service = "kafka" | "registry" | "redis" | "redis-cluster";

function runStack(args: string[]): { status: number | null; output: string; stdout: string } {
  const r = spawnSync(process.execPath, [stackScript, ...args], { cwd: repoRoot, encoding: "utf8", env: process.env });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

/** The services that do not answer, as the stack script's own probes see them (`status --json`). */
function missingServices(): Service[] {
  const r = runStack(["status", "--json", "--redis-cluster"]);
  let rows: { service: Service; state: string }[];
  try {
    rows = JSON.parse(r.stdout) as { service: Service; state: string }[];
  } catch {
    throw new Error(`[global-setup] scripts/stack status --json printed no JSON (exit ${r.status}):\n${r.output}`);
  }
  return rows.filter((row) => row.state !== "up").map((row) => row.service);
}

const where: Record<Service, string> = {
  kafka: `Kafka at ${brokers.join(",")} (VIGIL_KAFKA_BROKERS)`,
  registry: `schema registry at ${registryUrl} (VIGIL_REGISTRY_URL)`,
  redis: `Redis at ${redisUrl} (VIGIL_REDIS_URL)`,
  "redis-cluster": `the local Redis Cluster at ${redisClusterNodes.join(",")} (VIGIL_STACK_REDIS_CLUSTER_PORT)`,
};

export default async function setup(): Promise<() => Promise<void>> {
  const missing = missingServices();
  let started: Service[] = [];
  if (missing.length > 0) {
    process.stdout.write(`[global-setup] not answering: ${missing.join(", ")}; running scripts/stack up ${missing.join(" ")}\n`);
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
  const stillMissing = missingServices();
  if (stillMissing.length > 0) {
    if (started.length > 0) runStack(["down", ...started]);
    throw new Error(
      `[global-setup] integration tests need ${stillMissing.map((s) => where[s]).join("; ")}, and it does not answer` +
        ` even after scripts/stack up. Check npm run stack:status and the logs under .stack/logs.`,
    );
  }
  return async () => {
    if (started.length === 0 || process.env.VIGIL_STACK_KEEP === "1") return;
    const r = runStack(["down", ...started]);
    process.stdout.write(r.output);
  };
}
