// Helpers for tests against the live processor: an isolated configuration (unique topics,
// group, Redis prefix, a free HTTP port), producing raw messages and collecting a topic.
import { createServer } from "node:net";
import kafkajs from "kafkajs";
import type { IHeaders, Message } from "kafkajs";
import { brokers, redisUrl, registryUrl, uniqueName } from "./stack-env.js";

export function isolatedEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const id = uniqueName(name);
  return {
    VIGIL_KAFKA_BROKERS: brokers.join(","),
    VIGIL_REDIS_URL: redisUrl,
    VIGIL_TOPIC_PREFIX: `${id}.`,
    VIGIL_REDIS_PREFIX: `${id}:`,
    VIGIL_GROUP_ID: id,
    VIGIL_HTTP_PORT: "0",
    VIGIL_TOPIC_PARTITIONS: "1",
    VIGIL_LOG_LEVEL: "error",
    ...extra,
  };
}

export const withRegistry = (env: Record<string, string>): Record<string, string> => ({ ...env, VIGIL_REGISTRY_URL: registryUrl });

export const kafka = () => new kafkajs.Kafka({ brokers, clientId: "vigil-tests", logLevel: kafkajs.logLevel.NOTHING });

export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export interface Collected {
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Reads a topic from the beginning until `done(messages)` or the timeout; returns what it saw. */
export async function collect(topic: string, done: (m: Collected[]) => boolean, timeoutMs = 30_000): Promise<Collected[]> {
  const consumer = kafka().consumer({ groupId: uniqueName("collector") });
  const seen: Collected[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ key: message.key?.toString() ?? null, value: message.value, headers: message.headers ?? {} });
      if (done(seen)) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return seen;
}

export const jsonValues = <T>(messages: Collected[]): T[] => messages.map((m) => JSON.parse(m.value?.toString("utf8") ?? "null") as T);

/** A TCP port free on 127.0.0.1 right now (for a service the test starts itself). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
