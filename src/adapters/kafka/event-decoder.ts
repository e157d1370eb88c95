import type { AgentEvent, DlqReason } from "../../protocol/index.js";
import { validateEvent } from "../../protocol/index.js";
import { eventFromAvro, isWireFormat } from "../../codec/avro-codec.js";
import { decodeLine } from "../../app/line-decoder.js";

// Decodes one Kafka message value into a validated event. Each message is detected on its
// own: Confluent wire format (magic byte 0, 4-byte schema id, Avro body) or plain JSON.
// Failures carry a stable reason code (a DLQ header and a metric label) and a retry
// verdict: a bad message goes to the DLQ, an unreachable registry is retried (docs/style.md, rule 8).

export type Decoded =
  { ok: true; event: AgentEvent; format: "json" | "avro" } | { ok: false; reason: Exclude<DlqReason, "processing_error" | "unauthenticated">; error: string };

export class RetriableDecodeError extends Error {
  readonly code = "REGISTRY_UNAVAILABLE";
  readonly retriable = true;
}

/** The part of @kafkajs/confluent-schema-registry the decoder calls. */
export interface AvroRegistry {
  decode(buffer: Buffer): Promise<unknown>;
}

function fromAvroRecord(record: unknown): Decoded {
  const v = validateEvent(eventFromAvro(record));
  return v.ok ? { ok: true, event: v.value, format: "avro" } : { ok: false, reason: v.reason, error: v.error };
}

const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|network|fetch failed|timed? ?out/i;

function isNetworkError(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if ((typeof code === "string" && NETWORK.test(code)) || (x instanceof Error && NETWORK.test(x.message))) return true;
  }
  return false;
}

function registryStatus(e: unknown): number | undefined {
  const status = (e as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

export async function decodeEvent(value: Buffer | null, maxBytes: number, registry: AvroRegistry | undefined): Promise<Decoded> {
  if (value === null || value.length === 0) return { ok: false, reason: "empty", error: "message has no value" };
  if (value.length > maxBytes) return { ok: false, reason: "oversized", error: `message of ${value.length} bytes exceeds ${maxBytes}` };
  if (isWireFormat(value)) {
    const schemaId = value.readUInt32BE(1);
    if (!registry) return { ok: false, reason: "unknown_schema", error: `Avro message (schema id ${schemaId}) but no schema registry is configured` };
    let record: unknown;
    try {
      record = await registry.decode(value);
    } catch (e) {
      const status = registryStatus(e);
      const message = e instanceof Error ? e.message : String(e);
      // The registry client reports network failures with a made-up status (400), so the
      // network is recognised by its error text first, whatever the status says.
      if (isNetworkError(e)) throw new RetriableDecodeError(`schema registry unavailable: ${message}`, { cause: e });
      if (status !== undefined && status >= 500) throw new RetriableDecodeError(`schema registry error ${status}: ${message}`, { cause: e });
      if (status === 404 || /not found/i.test(message)) return { ok: false, reason: "unknown_schema", error: `schema id ${schemaId}: ${message}` };
      return { ok: false, reason: "undecodable_avro", error: `schema id ${schemaId}: ${message}` };
    }
    return fromAvroRecord(record);
  }
  const decoded = decodeLine(value.toString("utf8"));
  if (decoded.ok === "blank") return { ok: false, reason: "empty", error: "message has only white space" };
  return decoded.ok ? { ok: true, event: decoded.event, format: "json" } : { ok: false, reason: decoded.reason, error: decoded.error };
}
