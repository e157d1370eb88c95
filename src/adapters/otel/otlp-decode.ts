import type { OtelRecord, OtelSpan, OtelSpanEvent, OtelSpanKind, OtelValue } from "../../app/otel-spans.js";
import { ExportTraceServiceRequest } from "./otlp-schema.js";

// OTLP/HTTP trace requests (`POST /v1/traces`) to plain spans (app/otel-spans.ts), from either
// encoding: protobuf (`application/x-protobuf`, decoded by protobufjs with the schema in
// otlp-schema.ts) or JSON (`application/json`: lowerCamelCase names, snake_case accepted too,
// ids as hex, 64-bit integers as strings or numbers, enums as numbers or names). One walk
// reads both, so both are held to the same limits. The body is the sender's: every field is
// checked for its type, a wrong one refuses the request with an error naming it
// (`resourceSpans[0].scopeSpans[1].spans[3].attributes[2].value: expected AnyValue`), and
// the work is linear in the body's size. The body's size is the caller's limit to set.

export type OtlpEncoding = "protobuf" | "json";

export interface OtlpLimits {
  /** Spans in one request (the Collector's batch processor: `send_batch_max_size` at most this). */
  readonly maxSpans: number;
  /** Attributes of one span, resource, span event or scope, and entries of one key-value list. */
  readonly maxAttributes: number;
  readonly maxEvents: number;
  /** Values of one array. */
  readonly maxArrayValues: number;
  /** Nesting of arrays and key-value lists inside an attribute value (1: a plain value). */
  readonly maxDepth: number;
  /** Characters of one string value; a longer one is cut there and its attribute listed in the span's `cut`. */
  readonly maxStringLength: number;
}

export const OTLP_LIMITS: OtlpLimits = {
  maxSpans: 10_000,
  maxAttributes: 1024,
  maxEvents: 1024,
  maxArrayValues: 10_000,
  maxDepth: 16,
  maxStringLength: 1_048_576,
};

export type OtlpDecoded = { readonly ok: true; readonly spans: OtelSpan[] } | { readonly ok: false; readonly error: string; readonly field: string };

/** The encoding a request's `Content-Type` names, or undefined for one OTLP/HTTP does not define (the caller answers 415). */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  return undefined;
}

/** Decodes one request body; never throws. */
export function decodeOtlpTraces(body: Uint8Array | string, encoding: OtlpEncoding, limits: Partial<OtlpLimits> = {}): OtlpDecoded {
  const walk: Walk = { form: encoding, limits: { ...OTLP_LIMITS, ...limits }, spans: 0, cut: false };
  let request: unknown;
  if (encoding === "protobuf") {
    if (typeof body === "string") return { ok: false, error: "body: a protobuf body is bytes, not text", field: "" };
    try {
      // protobufjs bounds nesting (100 levels) and skips unknown fields.
      request = ExportTraceServiceRequest.decode(body);
    } catch (e) {
      return { ok: false, error: `body: not a protobuf ExportTraceServiceRequest (${messageOf(e)})`, field: "" };
    }
  } else {
    try {
      request = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
    } catch (e) {
      return { ok: false, error: `body: not JSON (${messageOf(e)})`, field: "" };
    }
  }
  try {
    return { ok: true, spans: readRequest(request, walk) };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, error: `${e.field}: ${e.message}`, field: e.field };
    return { ok: false, error: `body: ${messageOf(e)}`, field: "" };
  }
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

class FieldError extends Error {
  readonly code = "invalid_field";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

interface Walk {
  readonly form: OtlpEncoding;
  readonly limits: OtlpLimits;
  spans: number;
  /** Set when a string was cut while reading the current attribute. */
  cut: boolean;
}

/** The proto field names of the JSON encoding's lowerCamelCase ones, which proto3 JSON parsers accept too. */
const SNAKE: Readonly<Record<string, string>> = {
  resourceSpans: "resource_spans",
  scopeSpans: "scope_spans",
  traceId: "trace_id",
  spanId: "span_id",
  parentSpanId: "parent_span_id",
  startTimeUnixNano: "start_time_unix_nano",
  endTimeUnixNano: "end_time_unix_nano",
  timeUnixNano: "time_unix_nano",
  stringValue: "string_value",
  boolValue: "bool_value",
  intValue: "int_value",
  doubleValue: "double_value",
  arrayValue: "array_value",
  kvlistValue: "kvlist_value",
  bytesValue: "bytes_value",
};

type Obj = Readonly<Record<string, unknown>>;

/** A field the sender set: protobufjs keeps defaults on the prototype, JSON may say `null`. */
function get(o: Obj, key: string, walk: Walk): unknown {
  if (Object.hasOwn(o, key)) return o[key] ?? undefined;
  const snake = walk.form === "json" ? SNAKE[key] : undefined;
  return snake !== undefined && Object.hasOwn(o, snake) ? (o[snake] ?? undefined) : undefined;
}

function object(v: unknown, field: string, what = "an object"): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new FieldError(field, `expected ${what}`);
  return v as Obj;
}

function list(v: unknown, field: string, max: number, what: string): readonly unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new FieldError(field, "expected an array");
  if (v.length > max) throw new FieldError(field, `${v.length} ${what}, over the limit of ${max}`);
  return v;
}

function string(v: unknown, field: string, walk: Walk): string {
  if (v === undefined) return "";
  if (typeof v !== "string") throw new FieldError(field, "expected a string");
  if (v.length <= walk.limits.maxStringLength) return v;
  walk.cut = true;
  return v.slice(0, walk.limits.maxStringLength);
}

/** A trace or span id: bytes in protobuf, hex in JSON; undefined when empty (no parent). */
function id(v: unknown, field: string, bytes: number, walk: Walk): string | undefined {
  let hex: string | undefined;
  if (walk.form === "protobuf" && v instanceof Uint8Array) {
    if (v.length === 0) return undefined;
    if (v.length === bytes) hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex");
  } else if (walk.form === "json" && typeof v === "string") {
    if (v === "") return undefined;
    if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) hex = v.toLowerCase();
  } else if (v === undefined) return undefined;
  if (hex === undefined) throw new FieldError(field, `expected ${bytes} bytes${walk.form === "json" ? ` as ${bytes * 2} hex digits` : ""}`);
  if (/^0+$/.test(hex)) throw new FieldError(field, "all zero, which is no valid id");
  return hex;
}

const UINT64_MAX = 18_446_744_073_709_551_615n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const INT64_MAX = 9_223_372_036_854_775_807n;

/** A 64-bit integer as a BigInt: a protobufjs Long, a JSON number or decimal string. */
function integer(v: unknown, field: string, signed: boolean): bigint {
  let n: bigint | undefined;
  if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && /^-?\d{1,20}$/.test(v)) n = BigInt(v);
  else if (typeof v === "object" && v !== null && typeof (v as { low?: unknown }).low === "number" && typeof (v as { high?: unknown }).high === "number")
    n = BigInt(String(v)); // a protobufjs Long: toString() is its exact decimal
  if (n === undefined || n < (signed ? INT64_MIN : 0n) || n > (signed ? INT64_MAX : UINT64_MAX))
    throw new FieldError(field, `expected a${signed ? "" : " non-negative"} 64-bit integer`);
  return n;
}

function enumIndex(v: unknown, field: string, names: readonly string[]): number {
  if (v === undefined) return 0;
  if (typeof v === "number" && Number.isInteger(v)) return v >= 0 && v < names.length ? v : 0; // proto3 enums are open
  if (typeof v === "string" && names.includes(v)) return names.indexOf(v);
  throw new FieldError(field, `expected one of ${names.join(", ")} or its number`);
}

const KINDS = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"];
const KIND_NAMES: readonly OtelSpanKind[] = ["unspecified", "internal", "server", "client", "producer", "consumer"];
const STATUS = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
const STATUS_NAMES = ["unset", "ok", "error"] as const;
const ANY_KEYS = ["stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"] as const;

/** One AnyValue as plain data; `depth` 1 is an attribute's own value. */
function anyValue(v: unknown, field: string, depth: number, walk: Walk): OtelValue {
  if (v === undefined) return null;
  const o = object(v, field, "AnyValue");
  const set = ANY_KEYS.filter((k) => get(o, k, walk) !== undefined);
  if (set.length === 0) {
    if (Object.keys(o).length === 0) return null; // an empty AnyValue
    throw new FieldError(field, "expected AnyValue");
  }
  if (set.length > 1) throw new FieldError(field, `expected AnyValue with one value, not ${set.join(" and ")}`);
  const key = set[0] as (typeof ANY_KEYS)[number];
  const x = get(o, key, walk);
  const at = `${field}.${key}`;
  switch (key) {
    case "stringValue":
      return string(x, at, walk);
    case "boolValue":
      if (typeof x !== "boolean") throw new FieldError(at, "expected a boolean");
      return x;
    case "intValue": {
      const n = integer(x, at, true);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    case "doubleValue":
      if (typeof x === "number") return Number.isFinite(x) ? x : String(x);
      if (x === "NaN" || x === "Infinity" || x === "-Infinity") return x;
      throw new FieldError(at, "expected a number");
    case "bytesValue":
      if (walk.form === "protobuf" && x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64");
      if (walk.form === "json" && typeof x === "string" && /^[A-Za-z0-9+/_-]*={0,2}$/.test(x)) return x;
      throw new FieldError(at, "expected bytes (base64 in JSON)");
    case "arrayValue":
    case "kvlistValue": {
      if (depth >= walk.limits.maxDepth) throw new FieldError(at, `nested deeper than ${walk.limits.maxDepth} levels`);
      const values = list(
        get(object(x, at), "values", walk),
        `${at}.values`,
        key === "arrayValue" ? walk.limits.maxArrayValues : walk.limits.maxAttributes,
        "values",
      );
      if (key === "arrayValue") return values.map((item, i) => anyValue(item, `${at}.values[${i}]`, depth + 1, walk));
      return keyValues(values, `${at}.values`, depth + 1, walk).record;
    }
  }
}

/** KeyValue pairs to a null-prototype record (the keys are the sender's); the keys whose text was cut. */
function keyValues(items: readonly unknown[], field: string, depth: number, walk: Walk): { record: OtelRecord; cut: string[] } {
  const record: Record<string, OtelValue> = Object.create(null) as Record<string, OtelValue>;
  const cut: string[] = [];
  items.forEach((item, i) => {
    const kv = object(item, `${field}[${i}]`, "a KeyValue");
    const key = get(kv, "key", walk) ?? ""; // proto3 leaves an empty key out
    if (typeof key !== "string" || key.length > 1024) throw new FieldError(`${field}[${i}].key`, "expected a string of at most 1024 characters");
    const outer = walk.cut;
    walk.cut = false;
    record[key] = anyValue(get(kv, "value", walk), `${field}[${i}].value`, depth, walk);
    if (walk.cut) cut.push(key);
    walk.cut ||= outer; // a cut inside a key-value list is a cut of the attribute holding it
  });
  return { record, cut };
}

function attributes(o: Obj, field: string, walk: Walk): { record: OtelRecord; cut: string[] } {
  return keyValues(list(get(o, "attributes", walk), `${field}.attributes`, walk.limits.maxAttributes, "attributes"), `${field}.attributes`, 1, walk);
}

const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

function readRequest(v: unknown, walk: Walk): OtelSpan[] {
  const request = object(v, "body", "an ExportTraceServiceRequest object");
  const spans: OtelSpan[] = [];
  list(get(request, "resourceSpans", walk), "resourceSpans", walk.limits.maxSpans, "resourceSpans").forEach((rsv, i) => {
    const rsField = `resourceSpans[${i}]`;
    const rs = object(rsv, rsField);
    const resourceValue = get(rs, "resource", walk);
    const resource =
      resourceValue === undefined
        ? (Object.create(null) as OtelRecord)
        : attributes(object(resourceValue, `${rsField}.resource`), `${rsField}.resource`, walk).record;
    list(get(rs, "scopeSpans", walk), `${rsField}.scopeSpans`, walk.limits.maxSpans, "scopeSpans").forEach((ssv, j) => {
      const ssField = `${rsField}.scopeSpans[${j}]`;
      const ss = object(ssv, ssField);
      const scopeValue = get(ss, "scope", walk);
      const scopeObject = scopeValue === undefined ? undefined : object(scopeValue, `${ssField}.scope`);
      const version = scopeObject ? string(get(scopeObject, "version", walk), `${ssField}.scope.version`, walk) : "";
      const scope = { name: scopeObject ? string(get(scopeObject, "name", walk), `${ssField}.scope.name`, walk) : "", ...(version !== "" ? { version } : {}) };
      list(get(ss, "spans", walk), `${ssField}.spans`, walk.limits.maxSpans, "spans").forEach((sv, k) => {
        const field = `${ssField}.spans[${k}]`;
        if (++walk.spans > walk.limits.maxSpans) throw new FieldError(field, `more than ${walk.limits.maxSpans} spans in one request`);
        spans.push(readSpan(object(sv, field), field, resource, scope, walk));
      });
    });
  });
  return spans;
}

function readSpan(s: Obj, field: string, resource: OtelRecord, scope: OtelSpan["scope"], walk: Walk): OtelSpan {
  const traceId = id(get(s, "traceId", walk), `${field}.traceId`, 16, walk);
  const spanId = id(get(s, "spanId", walk), `${field}.spanId`, 8, walk);
  if (traceId === undefined) throw new FieldError(`${field}.traceId`, "missing");
  if (spanId === undefined) throw new FieldError(`${field}.spanId`, "missing");
  const parentSpanId = id(get(s, "parentSpanId", walk), `${field}.parentSpanId`, 8, walk);
  const start = integer(get(s, "startTimeUnixNano", walk) ?? 0, `${field}.startTimeUnixNano`, false);
  const endRaw = integer(get(s, "endTimeUnixNano", walk) ?? 0, `${field}.endTimeUnixNano`, false);
  const end = endRaw < start ? start : endRaw; // an end before the start is a clock's error, not a negative duration
  const { record, cut } = attributes(s, field, walk);
  const events = list(get(s, "events", walk), `${field}.events`, walk.limits.maxEvents, "events").map((ev, i): OtelSpanEvent => {
    const at = `${field}.events[${i}]`;
    const e = object(ev, at);
    return {
      name: string(get(e, "name", walk), `${at}.name`, walk),
      timeUnixNano: integer(get(e, "timeUnixNano", walk) ?? 0, `${at}.timeUnixNano`, false).toString(),
      attributes: attributes(e, at, walk).record,
    };
  });
  const statusValue = get(s, "status", walk);
  const status = statusValue === undefined ? undefined : object(statusValue, `${field}.status`);
  const message = status ? string(get(status, "message", walk), `${field}.status.message`, walk) : "";
  return {
    traceId,
    spanId,
    ...(parentSpanId !== undefined ? { parentSpanId } : {}),
    name: string(get(s, "name", walk), `${field}.name`, walk),
    kind: KIND_NAMES[enumIndex(get(s, "kind", walk), `${field}.kind`, KINDS)] ?? "unspecified",
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: end.toString(),
    startMs: nsToMs(start),
    endMs: nsToMs(end),
    attributes: record,
    resource,
    scope,
    status: {
      code: STATUS_NAMES[status ? enumIndex(get(status, "code", walk), `${field}.status.code`, STATUS) : 0] ?? "unset",
      ...(message !== "" ? { message } : {}),
    },
    events,
    cut,
  };
}
