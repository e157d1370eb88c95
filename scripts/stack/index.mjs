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

const services = { kafka, registry, redis };

function pickServices(args) {
  const named = args.filter((a) => !a.startsWith("-"));
  for (const n of named) if (!SERVICES.includes(n)) fail(`unknown service "${n}" (known: ${SERVICES.join(", ")})`);
  return named.length ? named : SERVICES;
}

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
async function statusRows() {
  return Promise.all(
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
}

async function status(args) {
  const rows = await statusRows();
  if (args.includes("--json")) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const w = (s, n) => String(s).padEnd(n);
    process.stdout.write(`${w("SERVICE", 10)}${w("STATE", 7)}${w("OWNER", 10)}${w("PID", 9)}${w("ADDRESS", 45)}LOG\n`);
    for (const r of rows) process.stdout.write(`${w(r.service, 10)}${w(r.state, 7)}${w(r.owner, 10)}${w(r.pid ?? "-", 9)}${w(r.address, 45)}${r.log}\n`);
  }
  if (rows.some((r) => r.state !== "up")) process.exitCode = 3;
}

async function clean() {
  await down([]);
  for (const d of [...Object.values(services).flatMap((s) => s.data), dirs.logs]) fs.rmSync(d, { recursive: true, force: true });
  say(`removed data and logs under ${stackDir} (jar caches kept)`);
}

const [command, ...rest] = process.argv.slice(2);
const commands = { up, down, status, clean };
try {
  if (!commands[command]) {
    process.stderr.write("usage: node scripts/stack/index.mjs up|down|status|clean [kafka|registry|redis ...] [--json]\n");
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
