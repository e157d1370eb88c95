import fc from "fast-check";
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { defaultPartitioner, eventPartitioner } from "../../src/sdk/partitioner.js";

// Vigil's producers partition events by principal (docs/contract.md, "Partitioning"): the
// key stays the sessionId, the partition is Kafka's default partitioner over the principal.

const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe("event partitioner", () => {
  it("puts every session of one principal on one partition: the default partitioner's, over the principal id", () => {
    const choose = eventPartitioner();
    const byDefault = kafkajs.Partitioners.DefaultPartitioner();
    for (const principal of ["alice", "bob", "carol@example.org", "p-9"]) {
      const partitions = new Set(
        Array.from({ length: 40 }, (_, i) =>
          choose({
            topic: "vigil.events",
            partitionMetadata,
            message: { key: `s-${principal}-${i}`, value: "{}", partitionKey: principal } as kafkajs.Message,
          }),
        ),
      );
      expect(partitions.size).toBe(1);
      expect([...partitions][0]).toBe(byDefault({ topic: "vigil.events", partitionMetadata, message: { key: principal, value: "{}" } }));
    }
  });

  it("without a partition key, partitions by the record key as Kafka's default does", () => {
    const choose = eventPartitioner();
    const byDefault = kafkajs.Partitioners.DefaultPartitioner();
    const sessions = Array.from({ length: 40 }, (_, i) => `s-${i}`);
    expect(sessions.map((key) => choose({ topic: "t", partitionMetadata, message: { key, value: "{}" } }))).toEqual(
      sessions.map((key) => byDefault({ topic: "t", partitionMetadata, message: { key, value: "{}" } })),
    );
    expect(new Set(sessions.map((key) => choose({ topic: "t", partitionMetadata, message: { key, value: "{}" } }))).size).toBeGreaterThan(4);
  });
});

describe("default partitioner without kafkajs's allocations", () => {
  const keys = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.string({ minLength: 1400, maxLength: 1500 }),
  );

  it("chooses kafkajs's DefaultPartitioner's partition for every key, string or bytes, of any length and partition count", () => {
    fc.assert(
      fc.property(keys, fc.integer({ min: 1, max: 64 }), (key, n) => {
        const metadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
        const message = { key, value: "{}" };
        expect(defaultPartitioner()({ topic: "t", partitionMetadata: metadata, message })).toBe(
          kafkajs.Partitioners.DefaultPartitioner()({ topic: "t", partitionMetadata: metadata, message }),
        );
      }),
      { numRuns: 5000 },
    );
  });

  it("keeps a message's own partition, and spreads keyless messages over the partitions", () => {
    const choose = defaultPartitioner();
    expect(choose({ topic: "t", partitionMetadata, message: { key: "s-1", value: "{}", partition: 7 } })).toBe(7);
    const keyless = new Set(Array.from({ length: 24 }, () => choose({ topic: "t", partitionMetadata, message: { key: null, value: "{}" } })));
    expect(keyless.size).toBe(12);
  });
});
