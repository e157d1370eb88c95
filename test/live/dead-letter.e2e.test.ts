import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import { collect, isolatedEnv, jsonValues, produce, withRegistry } from "../support/live.js";

// Bad input never stops a partition: undecodable bytes, invalid events, oversized
// messages and unknown schema ids go to the DLQ with the original bytes and headers naming
// the error and its origin, are counted, and the valid event behind them is decided.

const started = JSON.stringify({
  eventId: "dlq-1#0", type: "session.started", sessionId: "dlq-1", time: "2026-11-28T09:00:00Z",
  agent: { id: "a" }, principal: { id: "p" }, intent: { goal: "read the wiki", capabilities: ["wiki.read"] },
});
const secrets = JSON.stringify({
  eventId: "dlq-1#1", type: "action", sessionId: "dlq-1", time: "2026-11-28T09:00:05Z", agent: { id: "a" }, principal: { id: "p" },
  action: { capability: "secrets.read" }, resource: { id: "prod/db", sensitivity: ["secret"] },
});

describe("dead-letter topic", () => {
  it("takes every kind of bad message with its reason and origin; the partition keeps moving", async () => {
    const env = withRegistry(isolatedEnv("dlq", { VIGIL_MAX_MESSAGE_BYTES: "2048", VIGIL_OUTPUT_FORMAT: "json" }));
    const config = loadConfig(env);
    const running = await startVigil(env);
    try {
      const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from("xyz")]);
      await produce(config.topics.events, [
        { key: "dlq-1", value: started },
        { key: "dlq-1", value: "{not json" },
        { key: "dlq-1", value: JSON.stringify({ eventId: "x", type: "action", sessionId: "dlq-1" }) },
        { key: "dlq-1", value: JSON.stringify({ eventId: "y", type: "teleport", sessionId: "dlq-1", time: "2026-11-28T09:00:01Z", agent: { id: "a" }, principal: { id: "p" } }) },
        { key: "dlq-1", value: "x".repeat(4096) },
        { key: "dlq-1", value: unknownSchema },
        { key: "dlq-1", value: null },
        { key: "dlq-1", value: secrets },
      ]);
      const dlq = await collect(config.topics.dlq, (m) => m.length >= 6, 30_000);
      const reasons = dlq.map((m) => m.headers["vigil.error.reason"]?.toString());
      expect(reasons).toEqual(["unparseable_json", "invalid_event", "invalid_event", "oversized", "unknown_schema", "empty"]);
      expect(dlq[0]?.value?.toString()).toBe("{not json");
      expect(dlq[1]?.headers["vigil.error.message"]?.toString()).toContain("time:");
      expect(dlq[2]?.headers["vigil.error.message"]?.toString()).toBe('type: unknown event type "teleport"');
      expect(dlq.map((m) => m.headers["vigil.error.offset"]?.toString())).toEqual(["1", "2", "3", "4", "5", "6"]);
      expect(dlq.every((m) => m.headers["vigil.error.topic"]?.toString() === config.topics.events && m.headers["vigil.error.partition"]?.toString() === "0")).toBe(true);
      expect(Buffer.compare(dlq[4]?.value as Buffer, unknownSchema)).toBe(0);

      const commands = jsonValues<{ type: string; causedBy: string[] }>(await collect(config.topics.commands, (m) => m.length >= 1, 30_000));
      expect(commands.map((c) => [c.type, c.causedBy])).toEqual([["revoke", ["dlq-1#1"]]]);

      const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/vigil_events_dlq_total\{reason="invalid_event"\} 2/);
      expect(metrics).toMatch(/vigil_events_dlq_total\{reason="oversized"\} 1/);
    } finally {
      await running.stop();
    }
  });
});
