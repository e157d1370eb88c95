import kafkajs from "kafkajs";
import type { KafkaConfig, SASLOptions } from "kafkajs";
import type { Config } from "../../config/config.js";
import type { Logger } from "../logger.js";

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = { 1: "error", 2: "warn", 4: "info", 5: "debug" };

/** A kafkajs client from configuration: brokers, TLS, SASL (PLAIN, SCRAM), logs through our logger. */
export function createKafka(config: Config, log: Logger, clientSuffix = ""): kafkajs.Kafka {
  const k = config.kafka;
  const options: KafkaConfig = {
    clientId: `${k.clientId}${clientSuffix}`,
    brokers: [...k.brokers],
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    logLevel: kafkajs.logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? "info"](`kafka: ${message}`, { namespace, ...rest });
      },
  };
  if (k.ssl) options.ssl = k.ssl;
  if (k.sasl) options.sasl = k.sasl as SASLOptions;
  return new kafkajs.Kafka(options);
}
