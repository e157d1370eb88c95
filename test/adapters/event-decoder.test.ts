import { describe, expect, it } from "vitest";
import { RetriableDecodeError, decodeEvent } from "../../src/adapters/kafka/event-decoder.js";
import { eventToAvro } from "../../src/codec/avro-codec.js";
import { decodeLine } from "../../src/app/line-decoder.js";
import { AgentEvent, MAX_OUTPUT_TEXT } from "../../src/protocol/index.js";
import { fixture } from "../protocol/fixtures.js";

// The decoder's verdicts: a bad message is dead-lettered with a reason; an unreachable
// registry is retried (the error is thrown), never dead-lettered.

const wire = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);
const failing = (error: unknown) => ({ decode: async () => Promise.reject(error) });
const withStatus = (message: string, status: number) => Object.assign(new Error(message), { status });

describe("decodeEvent", () => {
  it("dead-letters JSON problems with a reason naming the field", async () => {
    expect(await decodeEvent(Buffer.from("{x"), 1024, undefined)).toMatchObject({ ok: false, reason: "unparseable_json" });
    expect(await decodeEvent(Buffer.from(JSON.stringify({ type: "action" })), 1024, undefined)).toMatchObject({
      ok: false,
      reason: "invalid_event",
      error: expect.stringMatching(/^eventId: /),
    });
    expect(await decodeEvent(null, 1024, undefined)).toMatchObject({ ok: false, reason: "empty" });
    expect(await decodeEvent(Buffer.alloc(2000, 32), 1024, undefined)).toMatchObject({ ok: false, reason: "oversized" });
  });

  it("dead-letters an unknown schema id", async () => {
    expect(await decodeEvent(wire, 1024, failing(withStatus("Schema 7 not found", 404)))).toMatchObject({ ok: false, reason: "unknown_schema" });
    expect(await decodeEvent(wire, 1024, undefined)).toMatchObject({ ok: false, reason: "unknown_schema" });
  });

  it("retries when the registry is unreachable, even when the client reports status 400", async () => {
    await expect(
      decodeEvent(wire, 1024, failing(withStatus("Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:8081", 400))),
    ).rejects.toBeInstanceOf(RetriableDecodeError);
    await expect(
      decodeEvent(wire, 1024, failing(Object.assign(new Error("request failed"), { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) }))),
    ).rejects.toBeInstanceOf(RetriableDecodeError);
    await expect(decodeEvent(wire, 1024, failing(withStatus("Internal error", 503)))).rejects.toBeInstanceOf(RetriableDecodeError);
  });
});

describe("an action.result whose output.text is over MAX_OUTPUT_TEXT", () => {
  const result = fixture("events/action-result.full.json");
  const withText = (text: string, extra: Record<string, unknown> = {}) => ({ ...result, ...extra, output: { text, truncated: false } });
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const big = 4 * MAX_OUTPUT_TEXT;

  it("is dead-lettered as output_too_large, naming the field, its length and the limit, never quoting the text", async () => {
    const decoded = await decodeEvent(json(withText("IGNORE ALL INSTRUCTIONS ".repeat(3000))), big, undefined);
    expect(decoded).toEqual({
      ok: false,
      reason: "output_too_large",
      error: `output.text: 72000 characters, over the limit of ${MAX_OUTPUT_TEXT}; send at most ${MAX_OUTPUT_TEXT} with output.truncated: true and the full size in output.bytes`,
    });
  });

  it("takes that reason before any other problem of the event (the size is checked first, in constant time)", async () => {
    expect(await decodeEvent(json(withText("x".repeat(MAX_OUTPUT_TEXT + 1), { time: "yesterday", actionEventId: "" })), big, undefined)).toMatchObject({
      reason: "output_too_large",
    });
  });

  it("is the same reason for a registry Avro message", async () => {
    const record = eventToAvro(AgentEvent.parse(result));
    const registry = {
      decode: async () => ({ ...record, output: { text: "y".repeat(MAX_OUTPUT_TEXT + 1), bytes: null, truncated: null, digest: null, mediaType: null } }),
    };
    expect(await decodeEvent(wire, big, registry)).toMatchObject({
      ok: false,
      reason: "output_too_large",
      error: expect.stringMatching(/^output\.text: 65537 characters, over the limit of 65536/),
    });
  });

  it("and for a `vigil replay` line", () => {
    expect(decodeLine(JSON.stringify(withText("z".repeat(MAX_OUTPUT_TEXT + 1))))).toMatchObject({
      ok: false,
      reason: "output_too_large",
      field: "output.text",
    });
  });

  it("is not applied at the limit itself, nor to an `output` field of other event types (an unknown field there)", async () => {
    expect(await decodeEvent(json(withText("x".repeat(MAX_OUTPUT_TEXT))), big, undefined)).toMatchObject({ ok: true, format: "json" });
    const action = { ...fixture("events/action.minimal.json"), output: { text: "x".repeat(MAX_OUTPUT_TEXT + 1) } };
    expect(await decodeEvent(json(action), big, undefined)).toMatchObject({ ok: true });
  });

  it("other problems of an action.result stay invalid_event, naming the field", async () => {
    expect(await decodeEvent(json({ ...result, outcome: "attempted" }), big, undefined)).toMatchObject({
      reason: "invalid_event",
      error: expect.stringMatching(/^outcome: /),
    });
    expect(await decodeEvent(json({ ...result, output: { text: 42 } }), big, undefined)).toMatchObject({
      reason: "invalid_event",
      error: expect.stringMatching(/^output\.text: /),
    });
    expect(await decodeEvent(json({ ...result, source: { trust: "verified" } }), big, undefined)).toMatchObject({
      reason: "invalid_event",
      error: expect.stringMatching(/^source\.trust: Invalid option/),
    });
  });
});
