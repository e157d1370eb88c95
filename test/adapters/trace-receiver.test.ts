import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { traceReceiver } from "../../src/adapters/otel/trace-receiver.js";
import { HttpError } from "../../src/adapters/http-app.js";
import { protobufBody, recorder } from "../support/otel-traces.js";

// The OTLP receiver's own limits (adapters/otel/trace-receiver.ts): inflation capped, at most
// two bodies decoded at once (a third is 503 with Retry-After), and a request's events written
// only once every one passed the authenticity rule.

function toolCall(session: string) {
  const r = recorder({ "service.name": "doc-agent" });
  r.record({
    name: "execute_tool read_document",
    start: 10,
    end: 20,
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "read_document",
      "gen_ai.tool.call.id": "call-1",
      "gen_ai.tool.call.arguments": '{"path": "report.txt"}',
      "gen_ai.tool.call.result": "the report",
      "gen_ai.conversation.id": session,
    },
  });
  return protobufBody(r.finished());
}

const refusal = async (p: Promise<unknown>): Promise<HttpError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("the OTLP trace receiver", () => {
  it("decodes at most two bodies at once: a third is 503 with Retry-After, and goes through once one is done", async () => {
    const releases: (() => void)[] = [];
    const sent: number[] = [];
    const receiver = traceReceiver({
      send: (records) =>
        new Promise<void>((resolve) =>
          releases.push(() => {
            sent.push(records.length);
            resolve();
          }),
        ),
      refused: () => undefined,
      defaultPrincipal: "p",
      maxInflated: 1024 * 1024,
    });
    const first = receiver.accept(toolCall("s1"), "protobuf", "pep");
    const second = receiver.accept(toolCall("s2"), "protobuf", "pep");
    const third = await refusal(receiver.accept(toolCall("s3"), "protobuf", "pep"));
    expect([third.status, third.headers["retry-after"]]).toEqual([503, "1"]);
    releases.shift()?.();
    expect(await first).toEqual({ accepted: 3, rejected: 0 });
    const fourth = receiver.accept(toolCall("s4"), "protobuf", "pep");
    for (const r of releases.splice(0)) r();
    await second;
    releases.shift()?.();
    expect(await fourth).toEqual({ accepted: 3, rejected: 0 });
    expect(sent).toEqual([3, 3, 3]);
  });

  it("inflates gzip up to its cap (413 past it), refuses other encodings with 415", () => {
    const receiver = traceReceiver({ send: async () => {}, refused: () => undefined, defaultPrincipal: "p", maxInflated: 1000 });
    expect(Buffer.from(receiver.inflate(gzipSync(Buffer.alloc(900, 1)), "gzip")).length).toBe(900);
    expect(() => receiver.inflate(gzipSync(Buffer.alloc(1001, 1)), "gzip")).toThrow(/inflates past the cap of 1000 bytes/);
    expect(() => receiver.inflate(Buffer.from("x"), "br")).toThrow(/br is not supported/);
    expect(() => receiver.inflate(Buffer.from("not gzip"), "gzip")).toThrow(/^body: not gzip/);
  });

  it("keys each event by its session and partitions it by its principal", async () => {
    const sent: { key: string; partitionKey: string; value: string }[] = [];
    const receiver = traceReceiver({ send: async (r) => void sent.push(...r), refused: () => undefined, defaultPrincipal: "p", maxInflated: 1024 * 1024 });
    await receiver.accept(toolCall("s6"), "protobuf", "pep");
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      const e = JSON.parse(r.value) as { sessionId: string; principal: { id: string } };
      expect([r.key, r.partitionKey]).toEqual([e.sessionId, e.principal.id]);
    }
  });

  it("writes nothing of a request one of whose events the authenticity rule refuses", async () => {
    const sent: unknown[] = [];
    const receiver = traceReceiver({
      send: async (r) => void sent.push(r),
      refused: (e) => (e.type === "action.result" ? "results need a signature" : undefined),
      defaultPrincipal: "p",
      maxInflated: 1024 * 1024,
    });
    const e = await refusal(receiver.accept(toolCall("s5"), "protobuf", "pep"));
    expect([e.status, e.code, e.message]).toEqual([403, "unauthenticated", "results need a signature"]);
    expect(sent).toEqual([]);
  });
});
