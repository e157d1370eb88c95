import avro from "avsc";
import type { Type, types } from "avsc";
import type { AgentEvent, AvroSchemaName, Command, SessionStatus } from "../protocol/index.js";
import { AVRO_SCHEMAS } from "../protocol/index.js";

// The Avro form of the wire contract (protocol/avro-schemas.ts, written to schemas/*.avsc).
// No I/O: the SDKs use this module, and it reads no files.
// Field names are the JSON form's; the mapping is mechanical and driven by the schema itself:
//   - an absent optional field is Avro `null` (every optional field is ["null", T], default null),
//     and a `null` read back is an absent field again;
//   - free-form JSON objects that Avro cannot type (event `args`, CAEP `subject` and `claims`)
//     travel as JSON text in a string field of the same name (schemas/README.md);
//   - fields the schema does not declare are dropped (unknown fields are ignored, never rejected);
//   - records (action.result's `output` and `source`) map field by field, enums (`source.trust`)
//     are their symbol strings, longs (`output.bytes`) JS numbers within the safe range that zod
//     allows. A producer's string `source` has already become absent in zod, so it is null here.
// Decoding does not validate: callers parse the result with the zod schema (AgentEvent, Command).

/** Fields carried as JSON text, by fully qualified record name. */
const JSON_TEXT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  "io.vigil.v1.AgentEvent": ["args"],
  "io.vigil.v1.CaepEvent": ["subject", "claims"],
};

export interface AvroSchemas {
  readonly event: Type;
  readonly command: Type;
  readonly status: Type;
}

/** An Avro schema as JSON (avsc does not export its schema type). */
export type AvroSchema = Parameters<typeof avro.Type.forSchema>[0];

/** The raw Avro schema JSON (as registered in the schema registry and written to schemas/<name>.avsc). */
export function readAvroSchema(name: AvroSchemaName): AvroSchema {
  return AVRO_SCHEMAS[name] as unknown as AvroSchema;
}

let cached: AvroSchemas | undefined;

/** The avsc types of the contract's Avro schemas, built once. */
export function loadAvroSchemas(): AvroSchemas {
  cached ??= {
    event: avro.Type.forSchema(readAvroSchema("vigil-event")),
    command: avro.Type.forSchema(readAvroSchema("vigil-command")),
    status: avro.Type.forSchema(readAvroSchema("vigil-session-status")),
  };
  return cached;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The non-null branch of a ["null", T] union, or the type itself. */
function nonNull(type: Type): Type {
  if (type.typeName === "union:unwrapped" || type.typeName === "union:wrapped") {
    const branches = (type as types.UnwrappedUnionType).types.filter((t) => t.typeName !== "null");
    if (branches.length !== 1) throw new Error(`avro-codec supports only ["null", T] unions, got ${type.typeName} of ${branches.length}`);
    return branches[0] as Type;
  }
  return type;
}

const isNullable = (type: Type): boolean => type.typeName.startsWith("union:") && (type as types.UnwrappedUnionType).types.some((t) => t.typeName === "null");

function toAvroValue(type: Type, value: unknown): unknown {
  const t = nonNull(type);
  if (t.typeName === "record" && isObject(value)) {
    const record = t as types.RecordType;
    const jsonText = JSON_TEXT_FIELDS[record.name ?? ""] ?? [];
    const out: Json = {};
    for (const field of record.fields) {
      const v = value[field.name];
      if (v === undefined || v === null) {
        // Required and missing: leave it out, so the Avro type rejects the record.
        if (isNullable(field.type)) out[field.name] = null;
      } else {
        out[field.name] = jsonText.includes(field.name) ? JSON.stringify(v) : toAvroValue(field.type, v);
      }
    }
    return out;
  }
  if (t.typeName === "array" && Array.isArray(value)) {
    const items = (t as types.ArrayType).itemsType;
    return value.map((v: unknown) => toAvroValue(items, v));
  }
  return value;
}

function parseJsonText(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // not JSON: handed on as is, so the zod schema reports the field
  }
}

function fromAvroValue(type: Type, value: unknown): unknown {
  const t = nonNull(type);
  if (t.typeName === "record" && isObject(value)) {
    const record = t as types.RecordType;
    const jsonText = JSON_TEXT_FIELDS[record.name ?? ""] ?? [];
    const out: Json = {};
    for (const field of record.fields) {
      const v = value[field.name];
      if (v === undefined || v === null) continue;
      out[field.name] = jsonText.includes(field.name) ? parseJsonText(v) : fromAvroValue(field.type, v);
    }
    return out;
  }
  if (t.typeName === "array" && Array.isArray(value)) {
    const items = (t as types.ArrayType).itemsType;
    return value.map((v: unknown) => fromAvroValue(items, v));
  }
  return value;
}

/** A validated event as an Avro record of schemas/vigil-event.avsc (ready for `toBuffer`). */
export function eventToAvro(event: AgentEvent): Record<string, unknown> {
  return toAvroValue(loadAvroSchemas().event, event) as Record<string, unknown>;
}

/** Confluent wire format: a zero magic byte, then the 4-byte schema id, then the Avro body. */
export const isWireFormat = (value: Uint8Array): boolean => value.length >= 5 && value[0] === 0;

/**
 * An output record's value (a command, a session status) in the JSON form: Confluent-wire
 * Avro decoded through `registry` and mapped back by `fromAvro`, else JSON; undefined when
 * unreadable (or Avro with no registry). Validate the result with the zod schema.
 */
export async function readRecordValue(
  value: Buffer | null,
  registry: { decode(buffer: Buffer): Promise<unknown> } | undefined,
  fromAvro: (record: unknown) => unknown,
): Promise<unknown> {
  if (!value) return undefined;
  try {
    if (!isWireFormat(value)) return JSON.parse(value.toString("utf8"));
    return registry ? fromAvro(await registry.decode(value)) : undefined;
  } catch {
    return undefined;
  }
}

/** An Avro record of schemas/vigil-event.avsc back in the JSON form; validate it with `AgentEvent`. */
export function eventFromAvro(record: unknown): unknown {
  return fromAvroValue(loadAvroSchemas().event, record);
}

/** A validated command as an Avro record of schemas/vigil-command.avsc (ready for `toBuffer`). */
export function commandToAvro(command: Command): Record<string, unknown> {
  return toAvroValue(loadAvroSchemas().command, command) as Record<string, unknown>;
}

/** An Avro record of schemas/vigil-command.avsc back in the JSON form; validate it with `Command`. */
export function commandFromAvro(record: unknown): unknown {
  return fromAvroValue(loadAvroSchemas().command, record);
}

/** A session status as an Avro record of schemas/vigil-session-status.avsc. */
export function statusToAvro(status: SessionStatus): Record<string, unknown> {
  return toAvroValue(loadAvroSchemas().status, status) as Record<string, unknown>;
}

/** An Avro record of schemas/vigil-session-status.avsc back in the JSON form; validate it with `SessionStatus`. */
export function statusFromAvro(record: unknown): unknown {
  return fromAvroValue(loadAvroSchemas().status, record);
}
