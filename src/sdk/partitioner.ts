import kafkajs from "kafkajs";
import type { ICustomPartitioner, Message } from "kafkajs";

// How Vigil's own producers choose an event's partition (docs/contract.md, "Partitioning").
// The record key stays the sessionId; the partition is Kafka's default partitioner (murmur2,
// as the Java client computes it) over the *principal's* id, so every session of one person
// lands on one partition, in order: their baseline, their separation-of-duties steps and
// every other fact a decision reads about them are then written by one processor, and many
// processors decide exactly what one would (docs/performance.md, "Many processors").

/** `principal` (the default): one person's sessions share a partition. `session`: Kafka's default over the key. */
export type PartitionBy = "principal" | "session";

/** A message that may name the id it is partitioned by, when that is not its key. */
export type PartitionedMessage = Message & { readonly partitionKey?: string };

/**
 * Kafka's murmur2 of `key` (its UTF-8 bytes), as the Java client and kafkajs's
 * DefaultPartitioner compute it, without their allocations: kafkajs builds a 64-bit Long
 * per step, about 4 KB of garbage per message, the processor's largest allocator besides
 * its decisions (docs/performance.md). The same value for every key (test/sdk).
 */
export function murmur2(key: string | Uint8Array): number {
  let data: Uint8Array;
  let length: number;
  if (typeof key !== "string") {
    data = key;
    length = key.length;
  } else if (key.length * 3 <= scratch.length) {
    data = scratch;
    length = scratch.write(key, 0, "utf8");
  } else {
    data = Buffer.from(key, "utf8");
    length = data.length;
  }
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  return h ^ (h >>> 15);
}

const scratch = Buffer.allocUnsafe(4096);

/**
 * kafkajs's DefaultPartitioner with murmur2 above: a message's own partition, else the key's
 * murmur2 modulo the partitions, else (no key) kafkajs's round robin.
 */
export const defaultPartitioner: ICustomPartitioner = () => {
  const keyless = kafkajs.Partitioners.DefaultPartitioner();
  return (args) => {
    const { partitionMetadata, message } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return keyless(args);
    return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
  };
};

/**
 * A kafkajs partitioner: the default partitioner over `partitionKey` when the message has one,
 * else over its key (`defaultPartitioner`: kafkajs's partitions without its garbage).
 */
export const eventPartitioner: ICustomPartitioner = () => {
  const byKey = defaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const by = (message as PartitionedMessage).partitionKey;
    return byKey({ topic, partitionMetadata, message: by === undefined ? message : { ...message, key: by } });
  };
};
