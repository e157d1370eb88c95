import { describe, expect, it } from "vitest";
import { RetriableDecodeError, decodeEvent } from "../../src/adapters/kafka/event-decoder.js";

// The decoder's verdicts: a bad message is dead-lettered with a reason; an unreachable
// registry is retried (the error is thrown), never dead-lettered.

const wire = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);
const failing = (error: unknown) => ({ decode: async () => Promise.reject(error) });
const withStatus = (message: string, status: number) => Object.assign(new Error(message), { status });

describe("decodeEvent", () => {
  it("dead-letters JSON problems with a reason naming the field", async () => {
    expect(await decodeEvent(Buffer.from("{x"), 1024, undefined)).toMatchObject({ ok: false, reason: "unparseable_json" });
    expect(await decodeEvent(Buffer.from(JSON.stringify({ type: "action" })), 1024, undefined)).toMatchObject({ ok: false, reason: "invalid_event", error: expect.stringMatching(/^eventId: /) });
    expect(await decodeEvent(null, 1024, undefined)).toMatchObject({ ok: false, reason: "empty" });
    expect(await decodeEvent(Buffer.alloc(2000, 32), 1024, undefined)).toMatchObject({ ok: false, reason: "oversized" });
  });

  it("dead-letters an unknown schema id", async () => {
    expect(await decodeEvent(wire, 1024, failing(withStatus("Schema 7 not found", 404)))).toMatchObject({ ok: false, reason: "unknown_schema" });
    expect(await decodeEvent(wire, 1024, undefined)).toMatchObject({ ok: false, reason: "unknown_schema" });
  });

  it("retries when the registry is unreachable, even when the client reports status 400", async () => {
    await expect(decodeEvent(wire, 1024, failing(withStatus("Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:8081", 400)))).rejects.toBeInstanceOf(RetriableDecodeError);
    await expect(decodeEvent(wire, 1024, failing(Object.assign(new Error("request failed"), { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) })))).rejects.toBeInstanceOf(RetriableDecodeError);
    await expect(decodeEvent(wire, 1024, failing(withStatus("Internal error", 503)))).rejects.toBeInstanceOf(RetriableDecodeError);
  });
});
