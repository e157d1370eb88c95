// vitest globalSetup of the "integration" and "stack" projects: makes sure Kafka, the schema
// registry, Redis and a local Redis Cluster (for the cluster contract and soak runs) answer (asking `scripts/stack status --json`, whose probes use kafkajs,
// fetch and ioredis) before any of their tests runs. Whatever does not answer is started
// with scripts/stack (npm run stack:up); at teardown only what THIS setup started
// is stopped again (set VIGIL_STACK_KEEP=1 to leave it running for the next run).
// A service that still does not answer is an error, never a skip.
// Two runs at once (two checkouts, or a soak beside `npm test`) share the services on their
// ports: each run holds a lease on every service it uses (a file named by its pid under the
// temp folder), and a service a run started is stopped by the last run to let go of it,
// never under another run still using it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

const ALL: readonly Service[] = ["kafka", "registry", "redis", "redis-cluster"];

/** The lease folder of one service at its address (the address is in `where`). */
const leaseDir = (service: Service): string =>
  join(tmpdir(), "vigil-stack-leases", `${service}-${createHash("sha256").update(where[service]).digest("hex").slice(0, 12)}`);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Other live runs holding a lease on the service (stale leases of dead runs are removed). */
function otherHolders(service: Service): number[] {
  const dir = leaseDir(service);
  if (!existsSync(dir)) return [];
  const out: number[] = [];
  for (const name of readdirSync(dir)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (alive(pid)) out.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return out;
}

function takeLeases(started: readonly Service[]): void {
  for (const service of ALL) {
    const dir = leaseDir(service);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, String(process.pid)), "");
    // Started by a test run: whichever run lets go of it last stops it.
    if (started.includes(service)) writeFileSync(join(dir, "started-by-tests"), "");
  }
}

/** Lets go of every lease; returns the services started by a test run that no other run holds now. */
function releaseLeases(): Service[] {
  const stop: Service[] = [];
  for (const service of ALL) {
    const dir = leaseDir(service);
    rmSync(join(dir, String(process.pid)), { force: true });
    if (existsSync(join(dir, "started-by-tests")) && otherHolders(service).length === 0) {
      rmSync(join(dir, "started-by-tests"), { force: true });
      stop.push(service);
    }
  }
  return stop;
}

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
  takeLeases(started);
  return async () => {
    const stop = releaseLeases();
    if (stop.length === 0 || process.env.VIGIL_STACK_KEEP === "1") return;
    const r = runStack(["down", ...stop]);
    process.stdout.write(r.output);
  };
}
