#!/usr/bin/env node
// Local stack for Vigil: Apache Kafka (KRaft, single node), Apicurio Registry (Confluent-
// compatible API) and Redis, all on 127.0.0.1, without Docker. One module per service
// (kafka.mjs, registry.mjs, redis.mjs: probe, preflight, provision, start); this file holds
// the commands.
//
//   node scripts/stack/index.mjs up     [kafka|registry|redis ...]   start what is not running, wait until it answers
//   node scripts/stack/index.mjs down   [kafka|registry|redis ...]   stop what THIS stack started (never anything else)
//   node scripts/stack/index.mjs status [--json]                     one line per service; exit 0 iff all are up
//   node scripts/stack/index.mjs clean                               down + delete .stack data (keeps the jar caches)
//
// `--redis-cluster` with up, down or status adds a local three-master Redis Cluster
// (redis-cluster.mjs; `redis-cluster` also works as a service name). `down` without names
// stops it too when this stack started it.
//
// Kafka jars and the Apicurio distribution come from Maven Central through Maven
// (stack/kafka/pom.xml, stack/registry/pom.xml) and are cached under .stack/.
// See stack/README.md for versions, ports, environment variables and troubleshooting.
import fs from "node:fs";
import process from "node:process";
import { SERVICES, StackError, dirs, elapsed, fail, pidFile, say, sleep, stackDir, tail, waitMs } from "./config.mjs";
import { cmdline, ourPid, stopPid } from "./processes.mjs";
import { kafka } from "./kafka.mjs";
import { registry } from "./registry.mjs";
import { redis } from "./redis.mjs";
import { redisCluster } from "./redis-cluster.mjs";

const services = { kafka, registry, redis };

function pickServices(args) {
  const named = args.filter((a) => !a.startsWith("-"));
  for (const n of named) if (!SERVICES.includes(n) && n !== "redis-cluster") fail(`unknown service "${n}" (known: ${SERVICES.join(", ")}, redis-cluster)`);
  return named.length === 0 ? SERVICES : named.filter((n) => n !== "redis-cluster");
}
/** Whether the command asks for the Redis Cluster too. */
const wantsCluster = (args) => args.includes("--redis-cluster") || args.includes("redis-cluster");

async function waitFor(svc, pid) {
  const start = Date.now();
  while (Date.now() - start < waitMs) {
    if (await svc.probe()) return;
    if (pid && cmdline(pid) === null) fail(`${svc.name} exited during startup (pid ${pid}). Last lines of ${svc.logs}:\n${tail(svc.log)}`);
    await sleep(500);
  }
  fail(`${svc.name} did not answer within ${waitMs / 1000}s (VIGIL_STACK_TIMEOUT_MS). Last lines of ${svc.logs}:\n${tail(svc.log)}`);
}

async function up(args) {
  const names = pickServices(args);
  fs.mkdirSync(stackDir, { recursive: true });
  if (names.length > 0) await upServices(names);
  if (wantsCluster(args)) await redisCluster.up();
}

async function upServices(names) {
  const plan = {};
  const actions = {};
  // 1. preflight all, before anything slow happens
  for (const name of names) actions[name] = await services[name].preflight(plan);
  for (const name of names) {
    if (actions[name] === "running") say(`${name}: already running (pid ${ourPid(name)}) at ${services[name].address}`);
    if (actions[name] === "external") say(`${name}: already answering at ${services[name].address} (not started by this stack; left alone)`);
  }
  // 2. resolve (Maven, cached), then start
  const starting = names.filter((n) => actions[n] === "start");
  for (const name of starting) services[name].provision();
  const started = {};
  for (const name of starting) {
    started[name] = services[name].start(plan);
    say(`${name}: starting${started[name] ? ` (pid ${started[name]})` : ""}, log ${services[name].log}`);
  }
  // 3. wait until each really answers (also the ones that were already running)
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const s = Date.now();
      await waitFor(services[name], started[name] ?? null);
      if (name in started) say(`${name}: up at ${services[name].address} after ${elapsed(s)}`);
    }),
  );
  const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`[stack] ${e instanceof Error ? e.message : e}\n`);
    fail("stack up failed; what did start is still running (npm run stack:down stops it)");
  }
  say(
    `${names.length === SERVICES.length ? "all" : names.join(", ")} up in ${elapsed()}: ${names.map((n) => `${n} ${services[n].address}`).join(", ")}; logs in ${dirs.logs}`,
  );
}

async function down(args) {
  const named = args.some((a) => !a.startsWith("-"));
  if (wantsCluster(args) || (!named && redisCluster.ours())) await redisCluster.down();
  await Promise.all(
    pickServices(args).map(async (name) => {
      const pid = ourPid(name);
      if (!pid) {
        say(`${name}: not started by this stack; nothing to stop`);
        return;
      }
      const s = Date.now();
      await stopPid(name, pid);
      fs.rmSync(pidFile(name), { force: true });
      say(`${name}: stopped (pid ${pid}) in ${elapsed(s)}`);
    }),
  );
}

/** One row per service: its state (up iff it answers), who owns it, its pid, address and log. */
async function statusRows(args) {
  const cluster = wantsCluster(args) || redisCluster.ours();
  const rows = await Promise.all(
    SERVICES.map(async (name) => {
      const svc = services[name];
      const pid = ourPid(name);
      const isUp = await svc.probe();
      return {
        service: name,
        state: isUp ? "up" : "down",
        owner: pid ? "stack" : isUp ? "external" : "-",
        pid: pid ?? null,
        address: svc.address,
        log: pid || fs.existsSync(svc.log) ? svc.log : "-",
      };
    }),
  );
  if (!cluster) return rows;
  const pids = redisCluster.pids();
  const isUp = await redisCluster.probe();
  return [
    ...rows,
    {
      service: "redis-cluster",
      state: isUp ? "up" : "down",
      owner: pids.length > 0 ? "stack" : isUp ? "external" : "-",
      pid: pids.length > 0 ? pids.join(",") : null,
      address: redisCluster.address,
      log: pids.length > 0 || fs.existsSync(redisCluster.log) ? redisCluster.log : "-",
    },
  ];
}

async function status(args) {
  const rows = await statusRows(args);
  if (args.includes("--json")) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const w = (s, n) => String(s).padEnd(n);
    const width = (k, min) => Math.max(min, ...rows.map((r) => String(r[k] ?? "-").length + 1));
    const [s, p, a] = [width("service", 10), width("pid", 9), width("address", 45)];
    process.stdout.write(`${w("SERVICE", s)}${w("STATE", 7)}${w("OWNER", 10)}${w("PID", p)}${w("ADDRESS", a)}LOG\n`);
    for (const r of rows) process.stdout.write(`${w(r.service, s)}${w(r.state, 7)}${w(r.owner, 10)}${w(r.pid ?? "-", p)}${w(r.address, a)}${r.log}\n`);
  }
  if (rows.some((r) => r.state !== "up")) process.exitCode = 3;
}

async function clean() {
  await down([]);
  for (const d of [...Object.values(services).flatMap((s) => s.data), ...redisCluster.data, dirs.logs]) fs.rmSync(d, { recursive: true, force: true });
  say(`removed data and logs under ${stackDir} (jar caches kept)`);
}

const [command, ...rest] = process.argv.slice(2);
const commands = { up, down, status, clean };
try {
  if (!commands[command]) {
    process.stderr.write("usage: node scripts/stack/index.mjs up|down|status|clean [kafka|registry|redis|redis-cluster ...] [--redis-cluster] [--json]\n");
    process.exit(2);
  }
  await commands[command](rest);
} catch (e) {
  if (e instanceof StackError) {
    process.stderr.write(`[stack] ERROR: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
