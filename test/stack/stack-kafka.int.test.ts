// The stack's real Kafka broker with the project's client (kafkajs 2.2.4): explicit topic
// creation, keyed produce, consumer-group consumption with eachBatch, manual offset commits,
// and the admin calls the processor relies on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { brokers, uniqueName } from "../support/stack-env.js";

const { Kafka, logLevel } = kafkajs;
const kafka = new Kafka({ clientId: uniqueName("vigil-int-kafka"), brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
});

describe("Kafka (real broker, kafkajs)", () => {
  it("creates a topic, produces keyed messages, consumes them with eachBatch in a group and commits", async () => {
    const topic = uniqueName("vigil.int.kafka");
    const groupId = uniqueName("vigil-int-group");
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);

    const keys = ["session-a", "session-b", "session-c", "session-d"];
    const sent = Array.from({ length: 40 }, (_, i) => ({ key: keys[i % keys.length] ?? "x", value: JSON.stringify({ seq: i }) }));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const acks = await producer.send({ topic, acks: -1, messages: sent });
      expect(acks.every((a) => a.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }

    const received: { key: string; seq: number; partition: number }[] = [];
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received.length}/40 messages consumed in 60s`)), 60_000);
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
              for (const m of batch.messages) {
                const seq = (JSON.parse(m.value?.toString() ?? "{}") as { seq: number }).seq;
                received.push({ key: m.key?.toString() ?? "", seq, partition: batch.partition });
                resolveOffset(m.offset);
              }
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
              await heartbeat();
              if (received.length >= sent.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((e: unknown) => {
            clearTimeout(timer);
            reject(e instanceof Error ? e : new Error(String(e)));
          });
      });
    } finally {
      await consumer.disconnect();
    }

    expect(received).toHaveLength(40);
    // same key -> same partition, and per key the order is the produce order
    for (const key of keys) {
      const mine = received.filter((r) => r.key === key);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      expect(mine.map((r) => r.seq)).toEqual([...mine.map((r) => r.seq)].sort((a, b) => a - b));
    }

    // committed offsets == end offsets, partition by partition
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]));
    for (const e of ends) expect(byPartition.get(e.partition)).toBe(e.high);
    const total = ends.reduce((n, e) => n + Number(e.high), 0);
    expect(total).toBe(40);

    const groups = await admin.describeGroups([groupId]);
    expect(groups.groups[0]?.state).toBe("Empty");
    await admin.deleteGroups([groupId]);
    await admin.deleteTopics({ topics: [topic] });
  });

  it("splits partitions between two members of one group and rebalances when one leaves", async () => {
    const topic = uniqueName("vigil.int.rebalance");
    const groupId = uniqueName("vigil-int-rebalance");
    await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 1 }], waitForLeaders: true });
    const assigned = new Map<string, number[]>();
    const member = (name: string) => {
      // a member learns of a rebalance between fetches: a short fetch wait keeps rebalances ~1 s
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 500 });
      c.on(c.events.GROUP_JOIN, (e) => assigned.set(name, e.payload.memberAssignment[topic] ?? []));
      return c;
    };
    const a = member("a");
    const b = member("b");
    const waitUntil = async (ok: () => boolean, what: string) => {
      const deadline = Date.now() + 45_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...assigned])}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      for (const c of [a, b]) {
        await c.connect();
        await c.subscribe({ topics: [topic], fromBeginning: true });
        await c.run({ eachBatch: async () => undefined });
      }
      await waitUntil(
        () =>
          (assigned.get("a")?.length ?? 0) > 0 &&
          (assigned.get("b")?.length ?? 0) > 0 &&
          (assigned.get("a")?.length ?? 0) + (assigned.get("b")?.length ?? 0) === 4,
        "a 2-member split",
      );
      expect([...(assigned.get("a") ?? []), ...(assigned.get("b") ?? [])].sort()).toEqual([0, 1, 2, 3]);
      await b.disconnect();
      await waitUntil(() => assigned.get("a")?.length === 4, "a to take all 4 partitions");
    } finally {
      await a.disconnect();
      await b.disconnect();
    }
    await admin.deleteTopics({ topics: [topic] });
  });

  it("answers the admin calls the processor uses (cluster, configs, compacted topics, partitions)", async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);

    const topic = uniqueName("vigil.int.compacted");
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
      waitForLeaders: true,
    });
    expect(await admin.listTopics()).toContain(topic);
    const cfg = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy"] }],
    });
    expect(cfg.resources[0]?.configEntries.find((c) => c.configName === "cleanup.policy")?.configValue).toBe("compact");
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(4);
    await admin.deleteTopics({ topics: [topic] });
  });
});
