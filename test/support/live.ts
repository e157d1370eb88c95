// Helpers for tests against the live processor: an isolated configuration (unique topics,
// group, Redis prefix, a free HTTP port), producing raw messages and collecting a topic.
import { createServer } from "node:net";
import kafkajs from "kafkajs";
import type { IHeaders, Message } from "kafkajs";
import { brokers, redisUrl, registryUrl, uniqueName } from "./stack-env.js";
import { loadConfig } from "../../src/config/config.js";
import { publicJwks, recordSigner } from "../../src/adapters/signing.js";
import type { RecordSigner } from "../../src/adapters/signing.js";
import type { VerifyOptions } from "../../src/sdk/enforcer.js";

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

/** What an enforcer should trust for a processor started with `env`: the public keys of its signing configuration. */
export const trustedKeys = async (env: Record<string, string> = {}): Promise<VerifyOptions> => ({ jwks: await publicJwks(loadConfig(env).signing) });

/** The processor's own signer for `env` (tests that write records only a processor could sign). */
export const processorSigner = (env: Record<string, string> = {}): Promise<RecordSigner> => recordSigner(loadConfig(env).signing);

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
  partition: number;
}

/** Reads a topic from the beginning until `done(messages)` or the timeout; returns what it saw. */
export async function collect(topic: string, done: (m: Collected[]) => boolean, timeoutMs = 30_000, client: kafkajs.Kafka = kafka()): Promise<Collected[]> {
  const consumer = client.consumer({ groupId: uniqueName("collector") });
  const seen: Collected[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      seen.push({ key: message.key?.toString() ?? null, value: message.value, headers: message.headers ?? {}, partition });
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

/** For every partition of `topic`: the group's committed offset, or -1 when it has none yet. */
export async function committedOffsets(groupId: string, topic: string, client: kafkajs.Kafka = kafka()): Promise<Map<number, number>> {
  const admin = client.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** For every partition of `topic`: its end offset (the offset the next record gets). */
export async function endOffsets(topic: string, client: kafkajs.Kafka = kafka()): Promise<Map<number, number>> {
  const admin = client.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until `groupId` has committed every record of `topic` written so far. The processor
 * publishes a batch's commands before it commits the batch, so once this returns, every
 * command those events cause is on the commands topic: a probe, instead of waiting a while
 * for "nothing more".
 */
export async function untilProcessed(groupId: string, topic: string, timeoutMs = 60_000, client: kafkajs.Kafka = kafka()): Promise<void> {
  const end = await endOffsets(topic, client);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await committedOffsets(groupId, topic, client);
    // An empty partition has nothing to commit (and no committed offset: -1).
    if ([...end].every(([p, high]) => high === 0 || (done.get(p) ?? -1) >= high)) return;
    if (Date.now() > deadline)
      throw new Error(`group ${groupId} did not commit ${topic} to ${JSON.stringify([...end])} within ${timeoutMs} ms (at ${JSON.stringify([...done])})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Everything on `topic` up to its end offsets as of the call. */
export async function readAll(topic: string, timeoutMs = 30_000, client: kafkajs.Kafka = kafka()): Promise<Collected[]> {
  const admin = client.admin();
  await admin.connect();
  let total = 0;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return [];
  const seen = await collect(topic, (m) => m.length >= total, timeoutMs, client);
  if (seen.length < total) throw new Error(`read ${seen.length} of the ${total} records on ${topic} within ${timeoutMs} ms`);
  return seen;
}

/** Polls `cond` (in-process state, such as an enforcer's) every 5 ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

/** One unlabelled sample of a running processor's /metrics (NaN when absent). */
export async function metric(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Creates `topic` with `partitions` and writes `messages` to it in batches of 2,000 (acks from all replicas). */
export async function seedTopic(topic: string, messages: readonly Message[], partitions: number): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka().producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
  } finally {
    await producer.disconnect();
  }
}
