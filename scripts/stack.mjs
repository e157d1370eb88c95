#!/usr/bin/env node
// Local stack for Vigil: Apache Kafka (KRaft, single node), Apicurio Registry (Confluent-
// compatible API) and Redis, all on 127.0.0.1, without Docker.
//
//   node scripts/stack.mjs up     [kafka|registry|redis ...]   start what is not running, wait until it answers
//   node scripts/stack.mjs down   [kafka|registry|redis ...]   stop what THIS stack started (never anything else)
//   node scripts/stack.mjs status [--json]                     one line per service; exit 0 iff all are up
//   node scripts/stack.mjs clean                               down + delete .stack data (keeps the jar caches)
//
// Kafka jars and the Apicurio distribution come from Maven Central through Maven
// (stack/kafka/pom.xml, stack/registry/pom.xml) and are cached under .stack/.
// See stack/README.md for versions, ports, environment variables and troubleshooting.
import { Buffer } from "node:buffer";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;

// ---------------------------------------------------------------------------------------------
// configuration

function portOf(hostPort, fallback) {
  const m = /:(\d+)\s*$/.exec(hostPort ?? "");
  return m ? Number(m[1]) : fallback;
}
function intEnv(name, fallback) {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fail(`${name}=${v} is not a valid port number`);
  return n;
}

const stackDir = path.resolve(env.VIGIL_STACK_DIR || path.join(repoRoot, ".stack"));
const brokersEnv = env.VIGIL_KAFKA_BROKERS || "127.0.0.1:9092";
const kafkaPort = intEnv("VIGIL_STACK_KAFKA_PORT", portOf(brokersEnv.split(",")[0], 9092));
const controllerPort = intEnv("VIGIL_STACK_KAFKA_CONTROLLER_PORT", kafkaPort + 1);
const registryUrlEnv = env.VIGIL_REGISTRY_URL || "http://127.0.0.1:8081/apis/ccompat/v7";
const registryPort = intEnv("VIGIL_STACK_REGISTRY_PORT", Number(new URL(registryUrlEnv).port || 8081));
const registryMgmtPort = intEnv("VIGIL_STACK_REGISTRY_MANAGEMENT_PORT", registryPort + 1000);
const registryPath = new URL(registryUrlEnv).pathname.replace(/\/+$/, "") || "/apis/ccompat/v7";
const redisUrl = new URL(env.VIGIL_REDIS_URL || "redis://127.0.0.1:6379");
const redisPort = intEnv("VIGIL_STACK_REDIS_PORT", Number(redisUrl.port || 6379));
const kafkaVersion = env.VIGIL_STACK_KAFKA_VERSION || pomProperty("stack/kafka/pom.xml", "kafka.version");
const registryVersion = env.VIGIL_STACK_REGISTRY_VERSION || pomProperty("stack/registry/pom.xml", "apicurio.version");
const waitMs = Number(env.VIGIL_STACK_TIMEOUT_MS || 180_000);
const kafkaHeap = env.VIGIL_STACK_KAFKA_HEAP || "512m";
const registryHeap = env.VIGIL_STACK_REGISTRY_HEAP || "512m";
const HOST = "127.0.0.1";

const dirs = {
  logs: path.join(stackDir, "logs"),
  run: path.join(stackDir, "run"),
  kafka: path.join(stackDir, "kafka"),
  kafkaLibs: path.join(stackDir, "kafka", `libs-${kafkaVersion}`),
  kafkaData: path.join(stackDir, "kafka", "data"),
  registry: path.join(stackDir, "registry"),
  registryApp: path.join(stackDir, "registry", `app-${registryVersion}`),
  redis: path.join(stackDir, "redis"),
};

const SERVICES = ["kafka", "registry", "redis"];
const logFile = {
  kafka: path.join(dirs.logs, "kafka.log"),
  kafkaStdout: path.join(dirs.logs, "kafka.stdout.log"),
  registry: path.join(dirs.logs, "registry.log"),
  redis: path.join(dirs.logs, "redis.log"),
};
const pidFile = (svc) => path.join(dirs.run, `${svc}.pid`);
const address = {
  kafka: `${HOST}:${kafkaPort}`,
  registry: `http://${HOST}:${registryPort}${registryPath}`,
  redis: `redis://${redisUrl.hostname || HOST}:${redisPort}`,
};

// ---------------------------------------------------------------------------------------------
// small utilities

class StackError extends Error {}
function fail(msg) {
  throw new StackError(msg);
}
function say(msg) {
  process.stdout.write(`[stack] ${msg}\n`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const elapsed = (from = t0) => `${((Date.now() - from) / 1000).toFixed(1)}s`;

function pomProperty(rel, name) {
  const text = fs.readFileSync(path.join(repoRoot, rel), "utf8");
  const m = new RegExp(`<${name.replace(/\./g, "\\.")}>([^<]+)</`).exec(text);
  if (!m) fail(`${rel} has no <${name}> property`);
  return m[1].trim();
}

function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}

function which(cmd) {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

function javaMajor(javaBin) {
  const r = spawnSync(javaBin, ["-version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

// Candidate JVMs: explicit env, JAVA_HOME, java on PATH, then /usr/lib/jvm/* (newest first).
function findJava(minMajor, explicitEnv) {
  const candidates = [];
  if (env[explicitEnv]) candidates.push(env[explicitEnv]);
  if (env.JAVA_HOME) candidates.push(path.join(env.JAVA_HOME, "bin", "java"));
  const onPath = which("java");
  if (onPath) candidates.push(onPath);
  for (const root of ["/usr/lib/jvm", "/opt/java", "/opt"]) {
    try {
      for (const d of fs.readdirSync(root)) {
        const bin = path.join(root, d, "bin", "java");
        if (fs.existsSync(bin)) candidates.push(bin);
      }
    } catch {
      /* no such root */
    }
  }
  const seen = [];
  for (const bin of [...new Set(candidates)]) {
    const major = javaMajor(bin);
    if (major !== null) seen.push({ bin, major });
    if (bin === env[explicitEnv] && major !== null && major < minMajor) {
      fail(`${explicitEnv}=${bin} is Java ${major}; Java ${minMajor}+ is needed`);
    }
  }
  const ok = seen.filter((j) => j.major >= minMajor);
  if (ok.length === 0) return { bin: null, seen };
  // keep the caller's preference order (env, JAVA_HOME, PATH) among those that are new enough
  return { bin: ok[0].bin, major: ok[0].major, seen };
}

function readPid(svc) {
  try {
    const pid = Number(fs.readFileSync(pidFile(svc), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return null;
  }
}

// Is `pid` alive and really the process this stack started for `svc`?
function ownsPid(svc, pid) {
  if (!pid) return false;
  const cmd = cmdline(pid);
  if (cmd === null) return false;
  if (svc === "redis") return /redis-server/.test(cmd) && cmd.includes(`:${redisPort}`);
  return cmd.includes(`-Dvigil.stack.service=${svc}`) && cmd.includes(`-Dvigil.stack.dir=${stackDir}`);
}

function ourPid(svc) {
  const pid = readPid(svc);
  if (pid && ownsPid(svc, pid)) return pid;
  if (pid) fs.rmSync(pidFile(svc), { force: true }); // stale
  return null;
}

// TCP: can we bind host:port ourselves (i.e. nobody listens there)?
function portFree(port, host = HOST) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

// Send `payload`, collect bytes until `done(buf)` says so, or time out.
function tcpExchange(host, port, payload, done, timeoutMs = 2000) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (v) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ host, port });
    sock.setTimeout(timeoutMs, () => finish(null));
    sock.once("error", () => finish(null));
    sock.once("connect", () => sock.write(payload));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (done(buf)) finish(buf);
    });
    sock.once("end", () => finish(buf.length ? buf : null));
  });
}

// Kafka ApiVersions v0 request; answers with the broker's API count, or null if no Kafka answers.
async function kafkaApiVersions(port, timeoutMs = 2000) {
  const clientId = Buffer.from("vigil-stack");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // api_key ApiVersions
  body.writeInt16BE(0, 2); // api_version 0
  body.writeInt32BE(4242, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const req = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
  req.writeInt32BE(body.length, 0);
  const res = await tcpExchange(HOST, port, req, (b) => b.length >= 4 && b.length >= 4 + b.readInt32BE(0), timeoutMs);
  if (!res || res.length < 14 || res.readInt32BE(4) !== 4242) return null;
  const errorCode = res.readInt16BE(8);
  if (errorCode !== 0) return null;
  return res.readInt32BE(10); // number of APIs
}

// Full readiness: the broker is registered and unfenced (Metadata lists it), via kafkajs.
async function kafkaMetadataReady(port) {
  let kafkajs;
  try {
    kafkajs = (await import("kafkajs")).default;
  } catch {
    // kafkajs missing (npm ci not run): ApiVersions alone has to do
    return (await kafkaApiVersions(port)) !== null;
  }
  const kafka = new kafkajs.Kafka({
    clientId: "vigil-stack",
    brokers: [`${HOST}:${port}`],
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.listTopics();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function registryAnswers(port, timeoutMs = 3000) {
  try {
    const res = await fetch(`http://${HOST}:${port}${registryPath}/subjects`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.status === 200 && Array.isArray(await res.json());
  } catch {
    return false;
  }
}

async function redisPing(port, timeoutMs = 2000) {
  const host = redisUrl.hostname || HOST;
  let payload = "";
  if (redisUrl.password) {
    const user = decodeURIComponent(redisUrl.username || "");
    const pass = decodeURIComponent(redisUrl.password);
    payload += user ? `AUTH ${user} ${pass}\r\n` : `AUTH ${pass}\r\n`;
  }
  payload += "PING\r\n";
  const res = await tcpExchange(host, port, Buffer.from(payload), (b) => b.includes("PONG") || b.includes("-"), timeoutMs);
  return res !== null && res.toString().includes("+PONG");
}

const probe = {
  kafka: () => kafkaMetadataReady(kafkaPort),
  registry: () => registryAnswers(registryPort),
  redis: () => redisPing(redisPort),
};

async function waitFor(svc, pid, logPath) {
  const start = Date.now();
  while (Date.now() - start < waitMs) {
    if (await probe[svc]()) return;
    if (pid && cmdline(pid) === null) {
      fail(`${svc} exited during startup (pid ${pid}). Last lines of ${logPath}:\n${tail(logPath)}`);
    }
    await sleep(500);
  }
  fail(`${svc} did not answer within ${waitMs / 1000}s (VIGIL_STACK_TIMEOUT_MS). Last lines of ${logPath}:\n${tail(logPath)}`);
}

function runMaven(pomRel, args, what) {
  const mvn = which("mvn");
  if (!mvn) fail(`Maven (mvn) is needed to fetch ${what} from Maven Central and is not on PATH. Install it: apt-get install -y maven`);
  const start = Date.now();
  say(`resolving ${what} with Maven (cached in ~/.m2 after the first time) ...`);
  const r = spawnSync(mvn, ["-q", "-B", "-f", path.join(repoRoot, pomRel), ...args], { encoding: "utf8" });
  if (r.status !== 0) {
    fail(`Maven could not resolve ${what} (exit ${r.status}):\n${(r.stdout + r.stderr).split("\n").slice(-30).join("\n")}`);
  }
  say(`resolved ${what} in ${elapsed(start)}`);
}

// ---------------------------------------------------------------------------------------------
// preflight: everything that can be checked BEFORE resolving or starting anything

async function preflight(svc, plan) {
  if (svc === "kafka") {
    if (ourPid("kafka")) return { action: "running" };
    if (!(await portFree(kafkaPort))) {
      if ((await kafkaApiVersions(kafkaPort)) !== null) return { action: "external" };
      fail(
        `port ${kafkaPort} (Kafka, VIGIL_STACK_KAFKA_PORT / VIGIL_KAFKA_BROKERS) is already taken by something that is not a Kafka broker and not ours.\n` +
          `  Find it: ss -ltnp 'sport = :${kafkaPort}'   Fix: stop it, or choose another port, e.g. VIGIL_STACK_KAFKA_PORT=19092`,
      );
    }
    if (!(await portFree(controllerPort))) {
      fail(
        `port ${controllerPort} (Kafka KRaft controller, VIGIL_STACK_KAFKA_CONTROLLER_PORT) is already taken.\n` +
          `  Find it: ss -ltnp 'sport = :${controllerPort}'   Fix: stop it, or set VIGIL_STACK_KAFKA_CONTROLLER_PORT`,
      );
    }
    const java = findJava(17, "VIGIL_STACK_JAVA");
    if (!java.bin) {
      fail(
        `Kafka ${kafkaVersion} needs Java 17+; none found (${java.seen.map((j) => `${j.bin}=${j.major}`).join(", ") || "no java at all"}).\n` +
          `  Fix: apt-get install -y openjdk-17-jre-headless, or set VIGIL_STACK_JAVA=/path/to/bin/java`,
      );
    }
    if (!fs.existsSync(path.join(dirs.kafkaLibs, ".complete")) && !which("mvn")) {
      fail(`Kafka jars are not cached in ${dirs.kafkaLibs} and Maven (mvn) is missing. Fix: apt-get install -y maven`);
    }
    plan.kafkaJava = java.bin;
    return { action: "start" };
  }
  if (svc === "registry") {
    if (ourPid("registry")) return { action: "running" };
    if (!(await portFree(registryPort))) {
      if (await registryAnswers(registryPort)) return { action: "external" };
      fail(
        `port ${registryPort} (schema registry, VIGIL_STACK_REGISTRY_PORT / VIGIL_REGISTRY_URL) is already taken by something that does not answer GET ${registryPath}/subjects and is not ours.\n` +
          `  Find it: ss -ltnp 'sport = :${registryPort}'   Fix: stop it, or choose another port, e.g. VIGIL_STACK_REGISTRY_PORT=18081`,
      );
    }
    if (!(await portFree(registryMgmtPort))) {
      fail(
        `port ${registryMgmtPort} (registry's Quarkus management interface, VIGIL_STACK_REGISTRY_MANAGEMENT_PORT) is already taken.\n` +
          `  Find it: ss -ltnp 'sport = :${registryMgmtPort}'   Fix: stop it, or set VIGIL_STACK_REGISTRY_MANAGEMENT_PORT`,
      );
    }
    const java = findJava(21, "VIGIL_STACK_REGISTRY_JAVA");
    if (!java.bin) {
      fail(
        `Apicurio Registry ${registryVersion} needs Java 21+ (its classes are class-file version 65); found only ` +
          `${java.seen.map((j) => `${j.bin} (Java ${j.major})`).join(", ") || "no java at all"}.\n` +
          `  Fix: install a JDK 21+ under /usr/lib/jvm (e.g. a Temurin package) or set VIGIL_STACK_REGISTRY_JAVA=/path/to/bin/java`,
      );
    }
    if (!fs.existsSync(path.join(dirs.registryApp, ".complete")) && !which("mvn")) {
      fail(`Apicurio Registry is not cached in ${dirs.registryApp} and Maven (mvn) is missing. Fix: apt-get install -y maven`);
    }
    plan.registryJava = java.bin;
    return { action: "start" };
  }
  // redis
  if (ourPid("redis") && (await redisPing(redisPort))) return { action: "running" };
  if (await redisPing(redisPort)) return { action: "external" };
  const host = redisUrl.hostname || HOST;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    fail(`Redis at ${address.redis} does not answer PING and is not local, so this stack cannot start it (VIGIL_REDIS_URL)`);
  }
  if (!(await portFree(redisPort))) {
    fail(
      `port ${redisPort} (Redis, VIGIL_REDIS_URL) is taken by something that does not answer PING.\n` +
        `  Find it: ss -ltnp 'sport = :${redisPort}'   Fix: stop it, or point VIGIL_REDIS_URL at another port`,
    );
  }
  if (!which("redis-server")) fail("redis-server is not installed and no Redis answers. Fix: apt-get install -y redis-server");
  return { action: "start" };
}

// ---------------------------------------------------------------------------------------------
// provisioning (cached) and starting

function ensureKafkaLibs() {
  const marker = path.join(dirs.kafkaLibs, ".complete");
  if (fs.existsSync(marker)) return;
  fs.rmSync(dirs.kafkaLibs, { recursive: true, force: true });
  runMaven(
    "stack/kafka/pom.xml",
    ["dependency:copy-dependencies", `-Dkafka.version=${kafkaVersion}`, "-DincludeScope=runtime", `-DoutputDirectory=${dirs.kafkaLibs}`],
    `Apache Kafka ${kafkaVersion}`,
  );
  fs.writeFileSync(marker, `kafka ${kafkaVersion}\n`);
}

function ensureRegistryApp() {
  const marker = path.join(dirs.registryApp, ".complete");
  if (fs.existsSync(marker)) return;
  const dist = path.join(dirs.registry, "dist");
  fs.rmSync(dirs.registryApp, { recursive: true, force: true });
  fs.rmSync(dist, { recursive: true, force: true });
  runMaven(
    "stack/registry/pom.xml",
    ["dependency:copy-dependencies", `-Dapicurio.version=${registryVersion}`, `-DoutputDirectory=${dist}`],
    `Apicurio Registry ${registryVersion}`,
  );
  const tarball = path.join(dist, `apicurio-registry-app-${registryVersion}-all.tar.gz`);
  if (!fs.existsSync(tarball)) fail(`Maven did not produce ${tarball}`);
  fs.mkdirSync(dirs.registryApp, { recursive: true });
  const r = spawnSync("tar", ["-xzf", tarball, "-C", dirs.registryApp], { encoding: "utf8" });
  if (r.status !== 0) fail(`could not unpack ${tarball}: ${r.stderr}`);
  if (!fs.existsSync(path.join(dirs.registryApp, "quarkus-run.jar"))) fail(`${tarball} has no quarkus-run.jar`);
  fs.rmSync(dist, { recursive: true, force: true }); // the tarball stays in ~/.m2
  fs.writeFileSync(marker, `apicurio-registry ${registryVersion}\n`);
}

function spawnDetached(svc, bin, args, cwd, outFile) {
  fs.mkdirSync(dirs.logs, { recursive: true });
  fs.mkdirSync(dirs.run, { recursive: true });
  const out = fs.openSync(outFile, "a");
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting ${svc}: ${bin} ${args.join(" ")}\n`);
  const child = spawn(bin, args, { cwd, detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(pidFile(svc), `${child.pid}\n`);
  return child.pid;
}

function startKafka(javaBin) {
  fs.mkdirSync(dirs.kafka, { recursive: true });
  const props = fs
    .readFileSync(path.join(repoRoot, "stack/kafka/server.properties.template"), "utf8")
    .replaceAll("@KAFKA_PORT@", String(kafkaPort))
    .replaceAll("@CONTROLLER_PORT@", String(controllerPort))
    .replaceAll("@DATA_DIR@", dirs.kafkaData);
  const propsFile = path.join(dirs.kafka, "server.properties");
  fs.writeFileSync(propsFile, props);
  const cp = `${dirs.kafkaLibs}/*`;
  const log4j = [`-Dlog4j2.configurationFile=${path.join(repoRoot, "stack/kafka/log4j2.properties")}`, `-Dkafka.logs.dir=${dirs.logs}`];

  // The KRaft voter set recorded at format time names the controller endpoint: reformat when
  // the ports or the version changed (this is a throwaway dev broker).
  const fingerprint = `${kafkaVersion} ${kafkaPort} ${controllerPort}`;
  const fpFile = path.join(dirs.kafka, "formatted-for");
  const formatted = fs.existsSync(path.join(dirs.kafkaData, "meta.properties"));
  if (!formatted || (fs.existsSync(fpFile) ? fs.readFileSync(fpFile, "utf8").trim() : "") !== fingerprint) {
    fs.rmSync(dirs.kafkaData, { recursive: true, force: true });
    fs.mkdirSync(dirs.logs, { recursive: true });
    const uuid = spawnSync(javaBin, ["-cp", cp, ...log4j, "kafka.tools.StorageTool", "random-uuid"], { encoding: "utf8" });
    const clusterId = uuid.stdout.trim().split("\n").pop();
    if (uuid.status !== 0 || !clusterId) fail(`kafka-storage random-uuid failed:\n${uuid.stdout}${uuid.stderr}`);
    const fmt = spawnSync(
      javaBin,
      ["-cp", cp, ...log4j, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propsFile, "--standalone"],
      { encoding: "utf8" },
    );
    if (fmt.status !== 0) fail(`formatting the KRaft storage failed:\n${fmt.stdout}${fmt.stderr}`);
    fs.writeFileSync(fpFile, `${fingerprint}\n`);
    say(`formatted KRaft storage in ${dirs.kafkaData} (cluster id ${clusterId})`);
  }
  return spawnDetached(
    "kafka",
    javaBin,
    [
      `-Xms${kafkaHeap}`,
      `-Xmx${kafkaHeap}`,
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-Djava.awt.headless=true",
      "-Dvigil.stack.service=kafka",
      `-Dvigil.stack.dir=${stackDir}`,
      ...log4j,
      "-cp",
      cp,
      "kafka.Kafka",
      propsFile,
    ],
    dirs.kafka,
    logFile.kafkaStdout,
  );
}

function startRegistry(javaBin) {
  const tmp = path.join(dirs.registry, "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  return spawnDetached(
    "registry",
    javaBin,
    [
      "-Xms128m",
      `-Xmx${registryHeap}`,
      "-Dvigil.stack.service=registry",
      `-Dvigil.stack.dir=${stackDir}`,
      `-Djava.io.tmpdir=${tmp}`,
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.http.port=${registryPort}`,
      `-Dquarkus.management.host=${HOST}`,
      `-Dquarkus.management.port=${registryMgmtPort}`,
      `-Dapicurio.storage.snapshot.location=${tmp}`,
      `-Dapicurio.import.work-dir=${tmp}`,
      "-Dquarkus.otel.sdk.disabled=true",
      "-jar",
      "quarkus-run.jar",
    ],
    dirs.registryApp,
    logFile.registry,
  );
}

function startRedis() {
  fs.mkdirSync(dirs.redis, { recursive: true });
  fs.mkdirSync(dirs.logs, { recursive: true });
  fs.mkdirSync(dirs.run, { recursive: true });
  const r = spawnSync(
    "redis-server",
    [
      "--daemonize", "yes",
      "--bind", "127.0.0.1", "-::1",
      "--port", String(redisPort),
      "--save", "",
      "--appendonly", "no",
      "--dir", dirs.redis,
      "--pidfile", pidFile("redis"),
      "--logfile", logFile.redis,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) fail(`redis-server failed to start (exit ${r.status}):\n${r.stdout}${r.stderr}\n${tail(logFile.redis)}`);
  return null; // the pid file appears once redis-server has daemonized
}

// ---------------------------------------------------------------------------------------------
// commands

function pickServices(args) {
  const named = args.filter((a) => !a.startsWith("-"));
  for (const n of named) if (!SERVICES.includes(n)) fail(`unknown service "${n}" (known: ${SERVICES.join(", ")})`);
  return named.length ? named : SERVICES;
}

async function up(args) {
  const services = pickServices(args);
  fs.mkdirSync(stackDir, { recursive: true });
  const plan = {};
  const actions = {};
  // 1. preflight all, before anything slow happens
  for (const svc of services) actions[svc] = (await preflight(svc, plan)).action;
  for (const svc of services) {
    if (actions[svc] === "running") say(`${svc}: already running (pid ${ourPid(svc)}) at ${address[svc]}`);
    if (actions[svc] === "external") say(`${svc}: already answering at ${address[svc]} (not started by this stack; left alone)`);
  }
  // 2. resolve and start
  const started = {};
  if (actions.kafka === "start") ensureKafkaLibs();
  if (actions.registry === "start") ensureRegistryApp();
  if (actions.kafka === "start") started.kafka = startKafka(plan.kafkaJava);
  if (actions.registry === "start") started.registry = startRegistry(plan.registryJava);
  if (actions.redis === "start") started.redis = startRedis();
  for (const svc of Object.keys(started)) say(`${svc}: starting${started[svc] ? ` (pid ${started[svc]})` : ""}, log ${svc === "kafka" ? logFile.kafka : logFile[svc]}`);
  // 3. wait until each really answers (also the ones that were already running)
  const waits = services.map(async (svc) => {
    const s = Date.now();
    await waitFor(svc, svc === "redis" ? null : started[svc] ?? null, svc === "kafka" ? `${logFile.kafka} and ${logFile.kafkaStdout}` : logFile[svc]);
    if (svc in started) say(`${svc}: up at ${address[svc]} after ${elapsed(s)}`);
  });
  const results = await Promise.allSettled(waits);
  const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`[stack] ${e instanceof Error ? e.message : e}\n`);
    fail(`stack up failed; what did start is still running (npm run stack:down stops it)`);
  }
  say(`${services.length === SERVICES.length ? "all" : services.join(", ")} up in ${elapsed()}: ${services.map((s) => `${s} ${address[s]}`).join(", ")}; logs in ${dirs.logs}`);
}

async function stopPid(svc, pid) {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + Number(env.VIGIL_STACK_STOP_TIMEOUT_MS || 30_000);
  while (Date.now() < deadline) {
    if (cmdline(pid) === null) return;
    await sleep(200);
  }
  say(`${svc}: still alive after SIGTERM, sending SIGKILL to ${pid}`);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
  while (cmdline(pid) !== null) await sleep(100);
}

async function down(args) {
  const services = pickServices(args);
  await Promise.all(
    services.map(async (svc) => {
      const pid = ourPid(svc);
      if (!pid) {
        say(`${svc}: not started by this stack; nothing to stop`);
        return;
      }
      const s = Date.now();
      await stopPid(svc, pid);
      fs.rmSync(pidFile(svc), { force: true });
      say(`${svc}: stopped (pid ${pid}) in ${elapsed(s)}`);
    }),
  );
}

async function status(args) {
  const rows = await Promise.all(
    SERVICES.map(async (svc) => {
      const pid = ourPid(svc);
      const isUp = await probe[svc]();
      return {
        service: svc,
        state: isUp ? "up" : "down",
        owner: pid ? "stack" : isUp ? "external" : "-",
        pid: pid ?? null,
        address: address[svc],
        log: pid || fs.existsSync(svc === "kafka" ? logFile.kafka : logFile[svc]) ? (svc === "kafka" ? logFile.kafka : logFile[svc]) : "-",
      };
    }),
  );
  if (args.includes("--json")) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    const w = (s, n) => String(s).padEnd(n);
    process.stdout.write(`${w("SERVICE", 10)}${w("STATE", 7)}${w("OWNER", 10)}${w("PID", 9)}${w("ADDRESS", 45)}LOG\n`);
    for (const r of rows) {
      process.stdout.write(`${w(r.service, 10)}${w(r.state, 7)}${w(r.owner, 10)}${w(r.pid ?? "-", 9)}${w(r.address, 45)}${r.log}\n`);
    }
  }
  if (rows.some((r) => r.state !== "up")) process.exitCode = 3;
}

async function clean() {
  await down([]);
  for (const d of [dirs.kafkaData, path.join(dirs.kafka, "formatted-for"), dirs.redis, path.join(dirs.registry, "tmp"), dirs.logs]) {
    fs.rmSync(d, { recursive: true, force: true });
  }
  say(`removed data and logs under ${stackDir} (jar caches kept)`);
}

const [command, ...rest] = process.argv.slice(2);
const commands = { up, down, status, clean };
try {
  if (!commands[command]) {
    process.stderr.write("usage: node scripts/stack.mjs up|down|status|clean [kafka|registry|redis ...] [--json]\n");
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
