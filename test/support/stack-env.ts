// Where the integration tests find Kafka, the schema registry and Redis. Same environment
// variables and defaults as scripts/stack (see stack/README.md).
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

const env = process.env;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const stackScript = path.join(repoRoot, "scripts", "stack", "index.mjs");

function defaultBrokers(): string {
  const port = env.VIGIL_STACK_KAFKA_PORT;
  return `127.0.0.1:${port && port !== "" ? port : "9092"}`;
}
function defaultRegistryUrl(): string {
  const port = env.VIGIL_STACK_REGISTRY_PORT;
  return `http://127.0.0.1:${port && port !== "" ? port : "8081"}/apis/ccompat/v7`;
}

/** Kafka bootstrap servers: VIGIL_KAFKA_BROKERS (comma separated), default 127.0.0.1:9092. */
export const brokers: string[] = (env.VIGIL_KAFKA_BROKERS || defaultBrokers())
  .split(",")
  .map((b) => b.trim())
  .filter((b) => b !== "");

/**
 * Base URL of a Confluent-compatible schema registry API: VIGIL_REGISTRY_URL, default
 * Apicurio's ccompat API http://127.0.0.1:8081/apis/ccompat/v7 (usable unchanged as the
 * `host` of @kafkajs/confluent-schema-registry).
 */
export const registryUrl: string = (env.VIGIL_REGISTRY_URL || defaultRegistryUrl()).replace(/\/+$/, "");

/** Redis URL: VIGIL_REDIS_URL, default redis://127.0.0.1:6379. */
export const redisUrl: string = env.VIGIL_REDIS_URL || "redis://127.0.0.1:6379";

/** The local Redis Cluster's nodes (scripts/stack/redis-cluster.mjs): VIGIL_STACK_REDIS_CLUSTER_PORT and the next two, default 7000–7002. */
export const redisClusterNodes: string[] = [0, 1, 2].map((i) => `127.0.0.1:${Number(env.VIGIL_STACK_REDIS_CLUSTER_PORT || 7000) + i}`);

/** A name no other test run uses: `${prefix}-<8 hex>`; for topics, groups, subjects and keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
