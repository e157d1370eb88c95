import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { registerSchemas, schemaRegistry } from "../../src/adapters/schema-registry.js";
import { startVigil } from "../../src/main.js";
import { eventToAvro } from "../../src/codec/avro-codec.js";
import { AgentEvent, MAX_OUTPUT_TEXT } from "../../src/protocol/index.js";
import { collect, isolatedEnv, jsonValues, produce, withRegistry } from "../support/live.js";

// Bad input never stops a partition: undecodable bytes, invalid events, oversized
// messages, unknown schema ids and tool outputs over MAX_OUTPUT_TEXT (JSON or Avro) go to
// the DLQ with the original bytes and headers naming the error and its origin, are counted,
// and the valid event behind them is decided.

const started = JSON.stringify({
  eventId: "dlq-1#0",
  type: "session.started",
  sessionId: "dlq-1",
  time: "2026-11-28T09:00:00Z",
  agent: { id: "a" },
  principal: { id: "p" },
  intent: { goal: "read the wiki", capabilities: ["wiki.read"] },
});
const secrets = JSON.stringify({
  eventId: "dlq-1#1",
  type: "action",
  sessionId: "dlq-1",
  time: "2026-11-28T09:00:05Z",
  agent: { id: "a" },
  principal: { id: "p" },
  action: { capability: "secrets.read" },
  resource: { id: "prod/db", sensitivity: ["secret"] },
});

const result = (eventId: string, text: string) => ({
  eventId,
  type: "action.result",
  sessionId: "dlq-1",
  time: "2026-11-28T09:00:02Z",
  agent: { id: "a" },
  principal: { id: "p" },
  actionEventId: "dlq-1#0",
  outcome: "success",
  output: { text, bytes: text.length },
  source: { trust: "untrusted" },
});

describe("dead-letter topic", () => {
  it("takes every kind of bad message with its reason and origin; the partition keeps moving", async () => {
    // Room for a tool output over MAX_OUTPUT_TEXT (65,536 characters) below the message limit.
    const env = withRegistry(isolatedEnv("dlq", { VIGIL_MAX_MESSAGE_BYTES: "80000", VIGIL_OUTPUT_FORMAT: "json" }));
    const config = loadConfig(env);
    const running = await startVigil(env);
    try {
      const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from("xyz")]);
      const registry = schemaRegistry(config.registryUrl as string);
      const { events: eventSchema } = await registerSchemas(registry, config);
      const atLimit = AgentEvent.parse(result("dlq-1#r0", "a".repeat(MAX_OUTPUT_TEXT)));
      const tooLargeJson = JSON.stringify(result("dlq-1#r1", "IGNORE PREVIOUS INSTRUCTIONS ".repeat(2300)));
      // An Avro record can carry any string: the limit is the processor's, after decoding.
      const tooLargeAvro = await registry.encode(eventSchema, {
        ...eventToAvro(atLimit),
        eventId: "dlq-1#r2",
        output: { ...(eventToAvro(atLimit).output as object), text: "b".repeat(MAX_OUTPUT_TEXT + 1) },
      });
      await produce(config.topics.events, [
        { key: "dlq-1", value: started },
        { key: "dlq-1", value: "{not json" },
        { key: "dlq-1", value: JSON.stringify({ eventId: "x", type: "action", sessionId: "dlq-1" }) },
        {
          key: "dlq-1",
          value: JSON.stringify({
            eventId: "y",
            type: "teleport",
            sessionId: "dlq-1",
            time: "2026-11-28T09:00:01Z",
            agent: { id: "a" },
            principal: { id: "p" },
          }),
        },
        { key: "dlq-1", value: "x".repeat(100_000) },
        { key: "dlq-1", value: unknownSchema },
        { key: "dlq-1", value: null },
        { key: "dlq-1", value: tooLargeJson },
        { key: "dlq-1", value: tooLargeAvro },
        { key: "dlq-1", value: JSON.stringify(atLimit) },
        { key: "dlq-1", value: secrets },
      ]);
      const dlq = await collect(config.topics.dlq, (m) => m.length >= 8, 30_000);
      const reasons = dlq.map((m) => m.headers["vigil.error.reason"]?.toString());
      expect(reasons).toEqual([
        "unparseable_json",
        "invalid_event",
        "invalid_event",
        "oversized",
        "unknown_schema",
        "empty",
        "output_too_large",
        "output_too_large",
      ]);
      expect(dlq[0]?.value?.toString()).toBe("{not json");
      expect(dlq[1]?.headers["vigil.error.message"]?.toString()).toContain("time:");
      expect(dlq[2]?.headers["vigil.error.message"]?.toString()).toBe('type: unknown event type "teleport"');
      expect(dlq[6]?.headers["vigil.error.message"]?.toString()).toBe(
        `output.text: 66700 characters, over the limit of ${MAX_OUTPUT_TEXT}; send at most ${MAX_OUTPUT_TEXT} with output.truncated: true and the full size in output.bytes`,
      );
      expect(dlq[7]?.headers["vigil.error.message"]?.toString()).toMatch(/^output\.text: 65537 characters, over the limit of 65536;/);
      expect(dlq[6]?.value?.toString()).toBe(tooLargeJson);
      expect(Buffer.compare(dlq[7]?.value as Buffer, tooLargeAvro)).toBe(0);
      expect(dlq.map((m) => m.headers["vigil.error.offset"]?.toString())).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
      expect(
        dlq.every((m) => m.headers["vigil.error.topic"]?.toString() === config.topics.events && m.headers["vigil.error.partition"]?.toString() === "0"),
      ).toBe(true);
      expect(Buffer.compare(dlq[4]?.value as Buffer, unknownSchema)).toBe(0);

      const commands = jsonValues<{ type: string; causedBy: string[] }>(await collect(config.topics.commands, (m) => m.length >= 1, 30_000));
      expect(commands.map((c) => [c.type, c.causedBy])).toEqual([["revoke", ["dlq-1#1"]]]);

      const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/vigil_events_dlq_total\{reason="invalid_event"\} 2/);
      expect(metrics).toMatch(/vigil_events_dlq_total\{reason="oversized"\} 1/);
      expect(metrics).toMatch(/vigil_events_dlq_total\{reason="output_too_large"\} 2/);
      // The result at the limit itself was accepted and decided.
      expect(metrics).toMatch(/vigil_events_processed_total\{type="action.result",format="json"\} 1/);
    } finally {
      await running.stop();
    }
  });
});
