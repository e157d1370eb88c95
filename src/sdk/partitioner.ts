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

/** A kafkajs partitioner: the default partitioner over `partitionKey` when the message has one, else over its key. */
export const eventPartitioner: ICustomPartitioner = () => {
  const byKey = kafkajs.Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const by = (message as PartitionedMessage).partitionKey;
    return byKey({ topic, partitionMetadata, message: by === undefined ? message : { ...message, key: by } });
  };
};
