import type { Attributes, AttributeValue, HrTime, Span } from "@opentelemetry/api";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

// Real OTLP bodies for the OTel door's tests: spans made by the OpenTelemetry JS SDK
// (BasicTracerProvider, in-memory exporter) and serialised by its own OTLP serialisers, the
// ones its exporters send with, in both encodings. Times are fixed, never the clock's.

/** 2026-12-06T12:00:00Z, plus `ms`, as the SDK's [seconds, nanoseconds]. */
export const at = (ms: number, nanos = 0): HrTime => [Date.UTC(2026, 11, 6, 12) / 1000 + Math.floor(ms / 1000), (ms % 1000) * 1_000_000 + nanos];

export interface SpanSpec {
  readonly name: string;
  readonly attributes?: Attributes;
  /** Milliseconds after 12:00:00. */
  readonly start: number;
  readonly end: number;
  readonly parent?: Span;
  readonly kind?: SpanKind;
  readonly error?: string;
  readonly events?: readonly { readonly name: string; readonly attributes: Attributes; readonly at: number }[];
}

/** A tracer whose finished spans are kept in memory, under a resource with `resource` attributes. */
export function recorder(resource: Record<string, AttributeValue> = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer("vigil-test", "1.0.0");
  /** Starts a span (under `parent`); `end()` it later, so a parent can end after its children as in a real agent. */
  const start = (spec: SpanSpec): Span => {
    const ctx = spec.parent ? trace.setSpan(context.active(), spec.parent) : context.active();
    const span = tracer.startSpan(spec.name, { startTime: at(spec.start), attributes: spec.attributes ?? {}, kind: spec.kind ?? SpanKind.INTERNAL }, ctx);
    for (const e of spec.events ?? []) span.addEvent(e.name, e.attributes, at(e.at));
    if (spec.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: spec.error });
    return span;
  };
  const end = (span: Span, spec: Pick<SpanSpec, "end">) => span.end(at(spec.end));
  /** Starts and ends a span at once. */
  const record = (spec: SpanSpec): Span => {
    const span = start(spec);
    end(span, spec);
    return span;
  };
  return { start, end, record, finished: (): ReadableSpan[] => exporter.getFinishedSpans() };
}

/**
 * The span with attribute values the SDK's API does not take yet (maps, lists of lists) but
 * OTLP carries and the serialisers write as they are, as the GenAI conventions record
 * `gen_ai.tool.call.arguments` or `gen_ai.input.messages` where a language can.
 */
export function withAttributes(span: ReadableSpan, extra: Readonly<Record<string, unknown>>): ReadableSpan {
  return Object.assign(Object.create(span) as ReadableSpan, { attributes: { ...span.attributes, ...extra } });
}

/** The `POST /v1/traces` body an OTLP/HTTP exporter sends, `application/x-protobuf`. */
export const protobufBody = (spans: readonly ReadableSpan[]): Uint8Array => ProtobufTraceSerializer.serializeRequest([...spans]) as Uint8Array;
/** The same, `application/json`. */
export const jsonBody = (spans: readonly ReadableSpan[]): Uint8Array => JsonTraceSerializer.serializeRequest([...spans]) as Uint8Array;
