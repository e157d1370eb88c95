// A local Redis Cluster of three masters (no replicas) from Debian's redis-server, for users
// who outgrow one Redis and for the tests that run Vigil against a cluster
// (`npm run stack:up -- --redis-cluster`). Ports VIGIL_STACK_REDIS_CLUSTER_PORT (default
// 7000) and the next two; their cluster bus ports are 10000 higher. No persistence: a dev
// store, like the single Redis the stack starts.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { HOST, dirs, env, fail, say, sleep, stackDir, tail, waitMs, which } from "./config.mjs";
import { cmdline, portFree, stopPid } from "./processes.mjs";

const base = Number(env.VIGIL_STACK_REDIS_CLUSTER_PORT || 7000);
if (!Number.isInteger(base) || base <= 0 || base > 55533)
  fail(`VIGIL_STACK_REDIS_CLUSTER_PORT=${env.VIGIL_STACK_REDIS_CLUSTER_PORT} is not a valid port number`);
const nodePorts = [base, base + 1, base + 2];
const dataDir = path.join(stackDir, "redis-cluster");
const pidPath = (port) => path.join(dirs.run, `redis-cluster-${port}.pid`);
const logPath = path.join(dirs.logs, "redis-cluster.log");

/** What VIGIL_REDIS_CLUSTER should say to reach it. */
export const clusterNodes = nodePorts.map((p) => `${HOST}:${p}`).join(",");

function cli(port, ...args) {
  const r = spawnSync("redis-cli", ["-h", HOST, "-p", String(port), ...args], { encoding: "utf8", timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The pid of the node this stack started on `port`, if it still runs. */
function nodePid(port) {
  let pid;
  try {
    pid = Number(fs.readFileSync(pidPath(port), "utf8").trim());
  } catch {
    return null;
  }
  const cmd = pid ? cmdline(pid) : null;
  if (cmd && /redis-server/.test(cmd) && cmd.includes(`:${port}`) && cmd.includes("[cluster]")) return pid;
  fs.rmSync(pidPath(port), { force: true });
  return null;
}

const info = (port) => {
  const r = cli(port, "cluster", "info");
  return r.ok ? Object.fromEntries(r.out.split(/\r?\n/).map((l) => l.split(":"))) : null;
};

/** Up when every node answers and reports the cluster ok with all three masters. */
function probe() {
  return nodePorts.every((p) => {
    const i = info(p);
    return i?.cluster_state === "ok" && i.cluster_known_nodes === "3";
  });
}

export const redisCluster = {
  name: "redis-cluster",
  address: `redis-cluster ${clusterNodes}`,
  log: logPath,
  data: [dataDir],
  probe: async () => probe(),
  ours: () => nodePorts.some((p) => nodePid(p) !== null),
  pids: () => nodePorts.map(nodePid).filter((p) => p !== null),

  async up() {
    if (nodePorts.every((p) => nodePid(p) !== null) && probe()) {
      say(`redis-cluster: already running at ${clusterNodes}`);
      return;
    }
    // A cluster of three masters already answering on these ports that this stack did not start
    // (another checkout's): used as it is, like an external Kafka or Redis, and never stopped here.
    if (nodePorts.every((p) => nodePid(p) === null) && probe()) {
      say(`redis-cluster: already answering at ${clusterNodes} (not started by this stack; left alone)`);
      return;
    }
    if (!which("redis-server") || !which("redis-cli"))
      fail("the Redis Cluster needs redis-server and redis-cli. Fix: apt-get install -y redis-server redis-tools");
    const t0 = Date.now();
    fs.mkdirSync(dirs.logs, { recursive: true });
    fs.mkdirSync(dirs.run, { recursive: true });
    for (const port of nodePorts) {
      if (nodePid(port) !== null) continue;
      for (const p of [port, port + 10000])
        if (!(await portFree(p)))
          fail(`port ${p} (Redis Cluster node or its bus) is taken. Find it: ss -ltnp 'sport = :${p}'   Fix: set VIGIL_STACK_REDIS_CLUSTER_PORT`);
      const dir = path.join(dataDir, String(port));
      // Every start forms a new, empty cluster: the nodes keep no state (like the stack's single Redis).
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const args = ["--daemonize", "yes", "--bind", HOST, "--port", String(port), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
      args.push("--save", "", "--appendonly", "no", "--dir", dir, "--pidfile", pidPath(port), "--logfile", logPath);
      const r = spawnSync("redis-server", args, { encoding: "utf8" });
      if (r.status !== 0) fail(`redis-server (cluster node ${port}) failed to start (exit ${r.status}):\n${r.stdout}${r.stderr}\n${tail(logPath)}`);
    }
    while (!nodePorts.every((p) => cli(p, "ping").out.trim() === "PONG")) {
      if (Date.now() - t0 > waitMs) fail(`Redis Cluster nodes did not answer within ${waitMs / 1000}s. Last lines of ${logPath}:\n${tail(logPath)}`);
      await sleep(100);
    }
    if (!probe()) {
      const r = spawnSync("redis-cli", ["--cluster", "create", ...nodePorts.map((p) => `${HOST}:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
        encoding: "utf8",
        timeout: 60_000,
      });
      if (r.status !== 0) fail(`redis-cli --cluster create failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }
    while (!probe()) {
      if (Date.now() - t0 > waitMs)
        fail(`the Redis Cluster did not report cluster_state:ok within ${waitMs / 1000}s. Last lines of ${logPath}:\n${tail(logPath)}`);
      await sleep(200);
    }
    say(`redis-cluster: up at ${clusterNodes} (3 masters) after ${((Date.now() - t0) / 1000).toFixed(1)}s; VIGIL_REDIS_CLUSTER=${clusterNodes}`);
  },

  async down() {
    const running = nodePorts.map((p) => [p, nodePid(p)]).filter(([, pid]) => pid !== null);
    if (running.length === 0) {
      say("redis-cluster: not started by this stack; nothing to stop");
      return;
    }
    await Promise.all(running.map(([port, pid]) => stopPid(`redis-cluster ${port}`, pid).then(() => fs.rmSync(pidPath(port), { force: true }))));
    say(`redis-cluster: stopped ${running.length} node(s)`);
  },
};
