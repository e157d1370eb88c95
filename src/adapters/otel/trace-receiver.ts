import { gunzipSync } from "node:zlib";
import { mapSpans } from "../../app/otel-spans.js";
import type { KnownSession } from "../../app/otel-spans.js";
import { eventRecord } from "../../app/intake.js";
import type { IntakeRecord } from "../../app/intake.js";
import type { AgentEvent } from "../../protocol/index.js";
import { HttpError } from "../http-app.js";
import type { TraceReceiver } from "../doors-http.js";
import { decodeOtlpTraces } from "./otlp-decode.js";

// `POST /v1/traces` (docs/otel.md): OTLP/HTTP bodies, protobuf or JSON, gzip or not, decoded
// (otlp-decode.ts), mapped to events (app/otel-spans.ts) and published, in order, keyed by
// session. What one request learnt of its sessions and traces is remembered for the next
// (bounded: the oldest forgotten first), so a trace exported in several requests stays one
// session. Spans arrive after the call ran: this door decides and alerts, it cannot hold.

/** Sessions and traces remembered across requests. */
const MAX_REMEMBERED = 100_000;
/**
 * Requests decoded at once: a decoded body's object tree is many times its bytes (a 4 MiB body
 * of empty attributes is millions of objects), so memory is bounded by this many bodies; one
 * more is answered 503 with Retry-After (OTLP exporters retry it).
 */
const MAX_DECODING = 2;

function bounded<V>(max: number) {
  const m = new Map<string, V>();
  return {
    get: (k: string) => m.get(k),
    set(k: string, v: V) {
      m.delete(k);
      m.set(k, v);
      if (m.size > max) m.delete(m.keys().next().value as string);
    },
  };
}

export interface TraceReceiverOptions {
  /** Writes events to the events topic, in order, with the caller as producer; resolves once Kafka has them. */
  /** Writes the records to the events topic (app/intake.ts eventRecord: keyed by session, partitioned by principal). */
  send(records: readonly IntakeRecord[]): Promise<void>;
  /** Why the policy's authenticity rule refuses `caller` as this event's producer, or undefined. */
  refused(event: AgentEvent, caller: string): string | undefined;
  /** The principal of spans that name none. */
  readonly defaultPrincipal: string;
  /** Most bytes a gzip body may inflate to. */
  readonly maxInflated: number;
}

export function traceReceiver(o: TraceReceiverOptions): TraceReceiver & { inflate(body: Uint8Array, encoding: string | undefined): Uint8Array } {
  const sessions = bounded<KnownSession>(MAX_REMEMBERED);
  const traces = bounded<string>(MAX_REMEMBERED);
  let decoding = 0;
  return {
    inflate(body, encoding) {
      const e = (encoding ?? "identity").trim().toLowerCase();
      if (e === "identity" || e === "") return body;
      if (e !== "gzip") throw new HttpError(415, `content-encoding: ${e} is not supported (gzip or none)`, { code: "unsupported_media_type" });
      try {
        return gunzipSync(body, { maxOutputLength: o.maxInflated });
      } catch (err) {
        if (err instanceof RangeError)
          throw new HttpError(413, `request body inflates past the cap of ${o.maxInflated} bytes`, { headers: { connection: "close" } });
        throw new HttpError(400, `body: not gzip (${err instanceof Error ? err.message : String(err)})`);
      }
    },
    async accept(body, contentType, caller) {
      if (decoding >= MAX_DECODING) throw new HttpError(503, "busy decoding other trace requests; retry", { headers: { "retry-after": "1" } });
      decoding++;
      try {
        const decoded = decodeOtlpTraces(body, contentType);
        if (!decoded.ok) throw new HttpError(400, decoded.error);
        const r = mapSpans(decoded.spans, { defaultPrincipal: o.defaultPrincipal, known: sessions.get, sessionOfTrace: traces.get });
        for (const e of r.events) {
          const why = o.refused(e, caller);
          if (why !== undefined) throw new HttpError(403, why, { code: "unauthenticated" });
        }
        await o.send(r.events.map((e) => eventRecord(e, caller)));
        for (const [id, s] of r.sessions) sessions.set(id, s);
        for (const [trace, session] of r.traces) traces.set(trace, session);
        return {
          accepted: r.events.length,
          // OTLP's rejected spans: tool spans that could not become events (spans that are no tool call are not rejected, only not read).
          rejected: r.errors.length,
          ...(r.errors.length > 0
            ? {
                error: r.errors
                  .slice(0, 5)
                  .map((x) => `span ${x.spanId}: ${x.error}`)
                  .join("; "),
              }
            : {}),
        };
      } finally {
        decoding--;
      }
    },
  };
}
