// Configuration of the local stack (environment variables, ports, folders) and the small
// helpers every service module shares. See stack/README.md for the variables.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const env = process.env;

export class StackError extends Error {}
export function fail(msg) {
  throw new StackError(msg);
}
export function say(msg) {
  process.stdout.write(`[stack] ${msg}\n`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
export const elapsed = (from = t0) => `${((Date.now() - from) / 1000).toFixed(1)}s`;

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
function pomProperty(rel, name) {
  const text = fs.readFileSync(path.join(repoRoot, rel), "utf8");
  const m = new RegExp(`<${name.replace(/\./g, "\\.")}>([^<]+)</`).exec(text);
  if (!m) fail(`${rel} has no <${name}> property`);
  return m[1].trim();
}

export const HOST = "127.0.0.1";
export const SERVICES = ["kafka", "registry", "redis"];
export const stackDir = path.resolve(env.VIGIL_STACK_DIR || path.join(repoRoot, ".stack"));
const brokersEnv = env.VIGIL_KAFKA_BROKERS || "127.0.0.1:9092";
const registryUrlEnv = env.VIGIL_REGISTRY_URL || "http://127.0.0.1:8081/apis/ccompat/v7";
export const redisUrl = new URL(env.VIGIL_REDIS_URL || "redis://127.0.0.1:6379");

export const ports = {
  kafka: intEnv("VIGIL_STACK_KAFKA_PORT", portOf(brokersEnv.split(",")[0], 9092)),
  registry: intEnv("VIGIL_STACK_REGISTRY_PORT", Number(new URL(registryUrlEnv).port || 8081)),
  redis: intEnv("VIGIL_STACK_REDIS_PORT", Number(redisUrl.port || 6379)),
};
ports.controller = intEnv("VIGIL_STACK_KAFKA_CONTROLLER_PORT", ports.kafka + 1);
ports.registryManagement = intEnv("VIGIL_STACK_REGISTRY_MANAGEMENT_PORT", ports.registry + 1000);

export const registryPath = new URL(registryUrlEnv).pathname.replace(/\/+$/, "") || "/apis/ccompat/v7";
export const versions = {
  kafka: env.VIGIL_STACK_KAFKA_VERSION || pomProperty("stack/kafka/pom.xml", "kafka.version"),
  registry: env.VIGIL_STACK_REGISTRY_VERSION || pomProperty("stack/registry/pom.xml", "apicurio.version"),
};
export const waitMs = Number(env.VIGIL_STACK_TIMEOUT_MS || 180_000);
export const heaps = { kafka: env.VIGIL_STACK_KAFKA_HEAP || "512m", registry: env.VIGIL_STACK_REGISTRY_HEAP || "512m" };

export const dirs = {
  logs: path.join(stackDir, "logs"),
  run: path.join(stackDir, "run"),
  kafka: path.join(stackDir, "kafka"),
  kafkaLibs: path.join(stackDir, "kafka", `libs-${versions.kafka}`),
  kafkaData: path.join(stackDir, "kafka", "data"),
  registry: path.join(stackDir, "registry"),
  registryApp: path.join(stackDir, "registry", `app-${versions.registry}`),
  redis: path.join(stackDir, "redis"),
};
export const logFile = {
  kafka: path.join(dirs.logs, "kafka.log"),
  kafkaStdout: path.join(dirs.logs, "kafka.stdout.log"),
  registry: path.join(dirs.logs, "registry.log"),
  redis: path.join(dirs.logs, "redis.log"),
};
export const pidFile = (svc) => path.join(dirs.run, `${svc}.pid`);
export const address = {
  kafka: `${HOST}:${ports.kafka}`,
  registry: `http://${HOST}:${ports.registry}${registryPath}`,
  redis: `redis://${redisUrl.hostname || HOST}:${ports.redis}`,
};

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}

export function which(cmd) {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}
