import fc from "fast-check";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { decodeOtlpTraces, otlpEncodingOf } from "../../src/adapters/otel/otlp-decode.js";
import type { OtelSpan } from "../../src/app/otel-spans.js";
import { jsonBody, protobufBody, recorder, withAttributes } from "../support/otel-traces.js";

// The OTLP decoder against the OpenTelemetry JS SDK's own serialisers (the bytes its OTLP/HTTP
// exporters send), in both encodings, and against hostile bodies: every refusal names the
// field, nothing throws, nothing nests without bound.

const T0 = Date.UTC(2026, 11, 6, 12);

function sdkSpans() {
  const r = recorder({ "service.name": "travel-agent", "user.id": "alice" });
  const root = r.start({ name: "invoke_agent travel", start: 0, end: 900, kind: SpanKind.SERVER, attributes: { "gen_ai.operation.name": "invoke_agent" } });
  r.record({
    name: "execute_tool search_flights",
    parent: root,
    start: 100,
    end: 250,
    attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_flights", attempts: 3, score: 0.5, cached: false, tags: ["a", "b"] },
    events: [{ name: "gen_ai.content.prompt", attributes: { "gen_ai.prompt": "hi" }, at: 120 }],
    error: "upstream timeout",
  });
  r.end(root, { end: 900 });
  return r.finished();
}

function decoded(body: Uint8Array | string, encoding: "protobuf" | "json"): OtelSpan[] {
  const d = decodeOtlpTraces(body, encoding);
  if (!d.ok) throw new Error(d.error);
  return d.spans;
}

describe("OTLP decoding of the SDK's own bodies", () => {
  it("reads every field of a protobuf body the exporter sends", () => {
    const spans = sdkSpans();
    const [tool, root] = decoded(protobufBody(spans), "protobuf");
    const ctx = spans[0]!.spanContext();
    expect(tool).toMatchObject({
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      parentSpanId: spans[1]!.spanContext().spanId,
      name: "execute_tool search_flights",
      kind: "internal",
      startTimeUnixNano: `${T0 + 100}000000`,
      endTimeUnixNano: `${T0 + 250}000000`,
      startMs: T0 + 100,
      endMs: T0 + 250,
      scope: { name: "vigil-test", version: "1.0.0" },
      status: { code: "error", message: "upstream timeout" },
      events: [{ name: "gen_ai.content.prompt", timeUnixNano: `${T0 + 120}000000`, attributes: { "gen_ai.prompt": "hi" } }],
      cut: [],
    });
    expect({ ...tool!.attributes }).toEqual({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "search_flights",
      attempts: 3,
      score: 0.5,
      cached: false,
      tags: ["a", "b"],
    });
    expect({ ...tool!.resource }).toMatchObject({ "service.name": "travel-agent", "user.id": "alice" });
    expect(root).toMatchObject({ kind: "server", status: { code: "unset" }, events: [] });
    expect(root!.parentSpanId).toBeUndefined();
    expect(tool!.resource).toBe(root!.resource); // one resource, shared
  });

  it("reads the JSON encoding of the same spans into the same result", () => {
    const spans = sdkSpans();
    expect(decoded(jsonBody(spans), "json")).toEqual(decoded(protobufBody(spans), "protobuf"));
    expect(decoded(new TextDecoder().decode(jsonBody(spans)), "json")).toEqual(decoded(protobufBody(spans), "protobuf"));
  });

  it("reads structured values (maps, nested lists, bytes) in both encodings, and int64 beyond 2^53 as a decimal string", () => {
    const [span] = recorderSpans();
    const structured = withAttributes(span!, {
      "gen_ai.tool.call.arguments": { to: "bob@example.com", amount: 12, nested: { list: [[1, 2], ["x"]] } },
      blob: new Uint8Array([1, 2, 255]),
    });
    for (const [body, encoding] of [
      [protobufBody([structured]), "protobuf"],
      [jsonBody([structured]), "json"],
    ] as const) {
      const [s] = decoded(body, encoding);
      expect(s!.attributes["gen_ai.tool.call.arguments"]).toEqual({ to: "bob@example.com", amount: 12, nested: { list: [[1, 2], ["x"]] } });
      expect(s!.attributes.blob).toBe("AQL/");
    }
    // A JS number cannot hold such an int64, so the SDK never sends one: other senders write it as a JSON string.
    const json = JSON.parse(new TextDecoder().decode(jsonBody([structured]))) as { resourceSpans: { scopeSpans: { spans: { attributes: unknown[] }[] }[] }[] };
    json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({ key: "big", value: { intValue: "9223372036854775807" } });
    const [s] = decoded(JSON.stringify(json), "json");
    expect(s!.attributes.big).toBe("9223372036854775807");
  });

  it("accepts what proto3 JSON parsers accept: snake_case names, enum names, int64 as numbers, base64 bytes", () => {
    const body = {
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: "0AF7651916CD43DD8448EB211C80319C",
                  span_id: "B7AD6B7169203331",
                  name: "s",
                  kind: "SPAN_KIND_CLIENT",
                  start_time_unix_nano: 1_700_000_000_000_000_000,
                  end_time_unix_nano: "1700000000500000000",
                  attributes: [
                    { key: "k", value: { int_value: 7 } },
                    { key: "b", value: { bytes_value: "AQL/" } },
                    { key: "empty", value: {} },
                  ],
                  status: { code: "STATUS_CODE_OK" },
                },
              ],
            },
          ],
        },
      ],
    };
    const [s] = decoded(JSON.stringify(body), "json");
    expect(s).toMatchObject({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      kind: "client",
      startMs: 1_700_000_000_000,
      endMs: 1_700_000_000_500,
      status: { code: "ok" },
    });
    expect({ ...s!.attributes }).toEqual({ k: 7, b: "AQL/", empty: null });
  });

  it("names the encoding of a Content-Type", () => {
    expect(otlpEncodingOf("application/x-protobuf")).toBe("protobuf");
    expect(otlpEncodingOf("Application/JSON; charset=utf-8")).toBe("json");
    expect(otlpEncodingOf("text/plain")).toBeUndefined();
    expect(otlpEncodingOf(undefined)).toBeUndefined();
  });
});

function recorderSpans() {
  const r = recorder({ "service.name": "s" });
  r.record({ name: "execute_tool x", start: 0, end: 1, attributes: { "gen_ai.operation.name": "execute_tool" } });
  return r.finished();
}

/** A JSON body of `spans` spans under one scope, each with the given attributes (JSON-encoded KeyValues). */
function jsonRequest(spansPerScope: readonly (readonly unknown[])[]): Record<string, unknown> {
  let n = 0;
  return {
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: spansPerScope.map((attrs) => ({
          scope: { name: "t" },
          spans: attrs.map((a) => ({
            traceId: "0af7651916cd43dd8448eb211c80319c",
            spanId: (++n).toString(16).padStart(16, "0"),
            name: "s",
            startTimeUnixNano: "1",
            endTimeUnixNano: "2",
            attributes: a,
          })),
        })),
      },
    ],
  };
}

const refused = (body: Uint8Array | string, encoding: "protobuf" | "json", limits = {}) => {
  const d = decodeOtlpTraces(body, encoding, limits);
  if (d.ok) throw new Error("decoded a body it should refuse");
  return d;
};

describe("OTLP decoding of hostile bodies", () => {
  const ok = { key: "k", value: { stringValue: "v" } };

  it("names the field of a value of the wrong type", () => {
    const body = jsonRequest([[[]], [[], [], [], [ok, ok, { key: "x", value: "not an AnyValue" }]]]);
    expect(refused(JSON.stringify(body), "json")).toEqual({
      ok: false,
      error: "resourceSpans[0].scopeSpans[1].spans[3].attributes[2].value: expected AnyValue",
      field: "resourceSpans[0].scopeSpans[1].spans[3].attributes[2].value",
    });
    const cases: [unknown, string][] = [
      [{ key: "x", value: { boolValue: "yes" } }, "attributes[0].value.boolValue: expected a boolean"],
      [{ key: "x", value: { intValue: 1.5 } }, "attributes[0].value.intValue: expected a 64-bit integer"],
      [{ key: "x", value: { intValue: "99999999999999999999" } }, "attributes[0].value.intValue: expected a 64-bit integer"],
      [{ key: "x", value: { stringValue: "a", intValue: 1 } }, "attributes[0].value: expected AnyValue with one value, not stringValue and intValue"],
      [{ key: "x", value: { fooValue: 1 } }, "attributes[0].value: expected AnyValue"],
      [{ key: 7, value: {} }, "attributes[0].key: expected a string of at most 1024 characters"],
      [{ key: "x", value: { arrayValue: { values: {} } } }, "attributes[0].value.arrayValue.values: expected an array"],
      [{ key: "x", value: { bytesValue: "not base64!" } }, "attributes[0].value.bytesValue: expected bytes (base64 in JSON)"],
    ];
    for (const [attribute, error] of cases)
      expect(refused(JSON.stringify(jsonRequest([[[attribute]]])), "json").error).toBe(`resourceSpans[0].scopeSpans[0].spans[0].${error}`);
  });

  it("refuses bad ids, times and structure, naming them", () => {
    const span = (patch: Record<string, unknown>) => {
      const body = jsonRequest([[[]]]);
      const spans = ((body.resourceSpans as Record<string, unknown>[])[0]!.scopeSpans as Record<string, unknown>[])[0]!.spans as Record<string, unknown>[];
      Object.assign(spans[0]!, patch);
      return refused(JSON.stringify(body), "json").error;
    };
    const at = "resourceSpans[0].scopeSpans[0].spans[0]";
    expect(span({ traceId: "xyz" })).toBe(`${at}.traceId: expected 16 bytes as 32 hex digits`);
    expect(span({ traceId: "00000000000000000000000000000000" })).toBe(`${at}.traceId: all zero, which is no valid id`);
    expect(span({ spanId: undefined })).toBe(`${at}.spanId: missing`);
    expect(span({ parentSpanId: "abc" })).toBe(`${at}.parentSpanId: expected 8 bytes as 16 hex digits`);
    expect(span({ startTimeUnixNano: "-5" })).toBe(`${at}.startTimeUnixNano: expected a non-negative 64-bit integer`);
    expect(span({ startTimeUnixNano: "18446744073709551616" })).toBe(`${at}.startTimeUnixNano: expected a non-negative 64-bit integer`);
    expect(span({ kind: "SPAN_KIND_SIDEWAYS" })).toMatch(`${at}.kind: expected one of SPAN_KIND_UNSPECIFIED`);
    expect(span({ status: "error" })).toBe(`${at}.status: expected an object`);
    expect(span({ events: [{ name: 5 }] })).toBe(`${at}.events[0].name: expected a string`);
    expect(refused('{"resourceSpans": {}}', "json").error).toBe("resourceSpans: expected an array");
    expect(refused("[]", "json").error).toBe("body: expected an ExportTraceServiceRequest object");
    expect(refused("{", "json").error).toMatch(/^body: not JSON/);
    expect(refused("text", "protobuf").error).toBe("body: a protobuf body is bytes, not text");
  });

  it("refuses a protobuf body that is not an ExportTraceServiceRequest, or is cut short", () => {
    const body = protobufBody(sdkSpans());
    expect(refused(body.subarray(0, body.length - 7), "protobuf").error).toMatch(/^body: not a protobuf ExportTraceServiceRequest \(/);
    expect(refused(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), "protobuf").error).toMatch(/^body: not a protobuf/);
    // A span whose trace id is 3 bytes: protobufjs reads it, the walk names it.
    const [span] = sdkSpans();
    const bad: ReadableSpan = Object.assign(Object.create(span!) as ReadableSpan, { spanContext: () => ({ ...span!.spanContext(), traceId: "abcdef" }) });
    expect(refused(protobufBody([bad]), "protobuf").error).toBe("resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 16 bytes");
  });

  it("caps spans, attributes, events, arrays and nesting", () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    expect(refused(JSON.stringify(jsonRequest([[[], []], [[]]])), "json", { maxSpans: 2 }).error).toBe(
      "resourceSpans[0].scopeSpans[1].spans[0]: more than 2 spans in one request",
    );
    expect(refused(JSON.stringify(jsonRequest([[attrs(5)]])), "json", { maxAttributes: 4 }).error).toBe(
      "resourceSpans[0].scopeSpans[0].spans[0].attributes: 5 attributes, over the limit of 4",
    );
    const events = jsonRequest([[[]]]);
    const spans = ((events.resourceSpans as Record<string, unknown>[])[0]!.scopeSpans as Record<string, unknown>[])[0]!.spans as Record<string, unknown>[];
    spans[0]!.events = Array.from({ length: 3 }, () => ({ name: "e", timeUnixNano: "1" }));
    expect(refused(JSON.stringify(events), "json", { maxEvents: 2 }).error).toBe(
      "resourceSpans[0].scopeSpans[0].spans[0].events: 3 events, over the limit of 2",
    );
    const array = { key: "a", value: { arrayValue: { values: attrs(6).map((a) => a.value) } } };
    expect(refused(JSON.stringify(jsonRequest([[[array]]])), "json", { maxArrayValues: 5 }).error).toBe(
      "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values: 6 values, over the limit of 5",
    );
    // 100,000 levels of lists: refused at the cap, with its path; JSON.parse and the walk never recurse deeper.
    const deep = `${'{"arrayValue":{"values":['.repeat(100_000)}{"intValue":1}${"]}}".repeat(100_000)}`;
    const text = JSON.stringify(jsonRequest([[[{ key: "d", value: "DEEP" }]]])).replace('"DEEP"', deep);
    const error = refused(text, "json").error;
    expect(error).toMatch(
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\]){15}\.arrayValue: nested deeper than 16 levels$/,
    );
    // The same in protobuf, built by hand (no encoder writes it): protobufjs stops at its own limit.
    let value: Uint8Array = new Uint8Array([0x18, 0x01]); // AnyValue { int_value: 1 }
    for (let i = 0; i < 2_000; i++) value = field(5, field(1, value)); // AnyValue { array_value: { values: [value] } }
    const request = field(
      1,
      field(
        2,
        field(
          2,
          concat(
            field(1, new Uint8Array(16).fill(1)),
            field(2, new Uint8Array(8).fill(1)),
            field(9, concat(field(1, new TextEncoder().encode("d")), field(2, value))),
          ),
        ),
      ),
    );
    expect(refused(request, "protobuf").error).toMatch(/^body: not a protobuf ExportTraceServiceRequest \(max depth exceeded\)$/);
  });

  it("cuts a string at the length cap and says which attribute", () => {
    const long = { key: "output.value", value: { stringValue: "x".repeat(50) } };
    const inList = { key: "list", value: { kvlistValue: { values: [{ key: "a", value: { stringValue: "y".repeat(50) } }, ok] } } };
    const d = decodeOtlpTraces(JSON.stringify(jsonRequest([[[long, inList, ok]]])), "json", { maxStringLength: 10 });
    if (!d.ok) throw new Error(d.error);
    expect(d.spans[0]!.attributes["output.value"]).toBe("x".repeat(10));
    expect(d.spans[0]!.cut).toEqual(["output.value", "list"]);
  });

  it("keeps keys like __proto__ as data", () => {
    const [s] = decoded(JSON.stringify(jsonRequest([[[{ key: "__proto__", value: { stringValue: "p" } }]]])), "json");
    expect(Object.hasOwn(s!.attributes, "__proto__")).toBe(true);
    expect(s!.attributes["__proto__"]).toBe("p");
  });

  it("never throws on a mutated protobuf or JSON body", () => {
    const pb = protobufBody(sdkSpans());
    const json = new TextDecoder().decode(jsonBody(sdkSpans()));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = pb.slice();
        for (const [i, b] of edits) bytes[i % bytes.length] = b;
        const d = decodeOtlpTraces(bytes, "protobuf");
        expect(d.ok || typeof d.error === "string").toBe(true);
        const chars = [...json];
        for (const [i, b] of edits) chars[i % chars.length] = String.fromCharCode(b);
        const j = decodeOtlpTraces(chars.join(""), "json");
        expect(j.ok || typeof j.error === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("works linearly: 10,000 spans of 20 attributes decode in seconds, not the minutes of a quadratic walk", () => {
    const attrs = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: { stringValue: "v" } }));
    const body = JSON.stringify(jsonRequest([Array.from({ length: 5_000 }, () => attrs), Array.from({ length: 5_000 }, () => attrs)]));
    const started = performance.now();
    const d = decodeOtlpTraces(body, "json");
    expect(d.ok && d.spans.length).toBe(10_000);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

/** A length-delimited protobuf field (wire type 2). */
function field(number: number, payload: Uint8Array): Uint8Array {
  const len: number[] = [];
  for (let n = payload.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return concat(new Uint8Array([(number << 3) | 2, ...len]), payload);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
