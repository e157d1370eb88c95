import { describe, expect, it } from "vitest";
import { chunked } from "../../src/adapters/kafka/output.js";

describe("batch output is split into bounded producer requests", () => {
  it("keeps every message, in order per topic, each request under the limit", () => {
    const big = (i: number) => ({ key: `k${i}`, value: "x".repeat(300) });
    const topics = [
      { topic: "a", messages: Array.from({ length: 10 }, (_, i) => big(i)) },
      { topic: "b", messages: Array.from({ length: 3 }, (_, i) => big(100 + i)) },
    ];
    const chunks = chunked(topics, 1000);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks)
      expect(c.flatMap((t) => t.messages).reduce((n, m) => n + String(m.value).length + 64 + String(m.key).length, 0)).toBeLessThanOrEqual(1000);
    for (const topic of ["a", "b"]) {
      const keys = chunks.flatMap((c) => c.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)));
      expect(keys).toEqual(topics.find((t) => t.topic === topic)?.messages.map((m) => m.key));
    }
    expect(chunked([], 1000)).toEqual([]);
  });
});
