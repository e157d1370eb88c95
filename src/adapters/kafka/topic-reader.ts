import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";

/**
 * Reads a topic from its start to the end offsets it had when called (every partition),
 * in a throwaway consumer group that commits nothing, and calls `onMessage` for each record
 * in arrival order (per partition in offset order). For offline work on live data
 * (`vigil shadow --from-topic`).
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, onMessage: (m: KafkaMessage, partition: number) => Promise<void> | void): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `vigil-reader-${randomUUID()}`, maxWaitTimeInMs: 500 });
  let read = 0;
  const left = new Set(ends.keys());
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const end = ends.get(batch.partition) ?? 0n;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              await onMessage(m, batch.partition);
              read++;
              resolveOffset(m.offset);
              if (BigInt(m.offset) + 1n >= end) left.delete(batch.partition);
            }
            if (left.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
