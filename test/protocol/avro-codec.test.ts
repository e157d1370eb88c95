import avro from "avsc";
import { describe, expect, it } from "vitest";
import { commandFromAvro, commandToAvro, eventFromAvro, eventToAvro, loadAvroSchemas, readAvroSchema } from "../../src/codec/avro-codec.js";
import type { AvroSchema } from "../../src/codec/avro-codec.js";
import { commandJsonSchema, eventJsonSchema } from "../../src/adapters/json-schema.js";
import { AgentEvent, Command, MAX_OUTPUT_TEXT } from "../../src/protocol/index.js";
import { commandFixtures, eventFixtures, extraCommand, extraEvent, fixture, without } from "./fixtures.js";

const { event: eventType, command: commandType } = loadAvroSchemas();

const eventRoundTrip = (raw: unknown): unknown => {
  const record = eventToAvro(AgentEvent.parse(raw));
  return AgentEvent.parse(eventFromAvro(eventType.fromBuffer(eventType.toBuffer(record))));
};
const commandRoundTrip = (raw: unknown): unknown => {
  const record = commandToAvro(Command.parse(raw));
  return Command.parse(commandFromAvro(commandType.fromBuffer(commandType.toBuffer(record))));
};

type Node = Record<string, unknown>;

/** Field names at every level that differ between an Avro record schema and a JSON Schema object. */
function fieldNameDiffs(avroSchema: Node, jsonSchema: Node, opaque: ReadonlySet<string>, path = ""): string[] {
  const jsonFields = new Map<string, Node>();
  for (const variant of (jsonSchema.oneOf as Node[] | undefined) ?? [jsonSchema]) {
    for (const [k, s] of Object.entries((variant.properties ?? {}) as Record<string, Node>)) jsonFields.set(k, s);
  }
  const avroFields = avroSchema.fields as Node[];
  const avroNames = avroFields.map((f) => String(f.name)).sort();
  const jsonNames = [...jsonFields.keys()].sort();
  const diffs = avroNames.join() === jsonNames.join() ? [] : [`${path || "."}: avro [${avroNames.join(", ")}] vs json [${jsonNames.join(", ")}]`];
  for (const f of avroFields) {
    const name = String(f.name);
    const jsonField = jsonFields.get(name);
    if (opaque.has(`${path}${name}`) || !jsonField) continue;
    const avroSub = avroRecord(f.type);
    const jsonSub = jsonObject(jsonField);
    if (avroSub && jsonSub) diffs.push(...fieldNameDiffs(avroSub, jsonSub, opaque, `${path}${name}.`));
    else if (avroSub || jsonSub) diffs.push(`${path}${name}: a record in one form only`);
  }
  return diffs;
}
function avroRecord(schema: unknown): Node | undefined {
  if (Array.isArray(schema)) return schema.map(avroRecord).find((r) => r !== undefined);
  if (typeof schema !== "object" || schema === null) return undefined;
  const s = schema as Node;
  if (s.type === "record") return s;
  if (s.type === "array") return avroRecord(s.items);
  return undefined;
}
function jsonObject(schema: Node): Node | undefined {
  if (schema.type === "object" && schema.properties) return schema;
  if (schema.type === "array" && schema.items) return jsonObject(schema.items as Node);
  // A union such as action.result's `source` (an object, or a producer's string read as absent).
  const branches = (schema.anyOf ?? schema.oneOf) as Node[] | undefined;
  return branches?.map(jsonObject).find((o) => o !== undefined);
}

describe("Avro schemas", () => {
  it("load from the package root with namespace io.vigil.v1", () => {
    expect(eventType.name).toBe("io.vigil.v1.AgentEvent");
    expect(commandType.name).toBe("io.vigil.v1.Command");
  });

  // "Every field name is the same in the JSON form and in the Avro / JSON-Schema form" (docs/contract.md).
  it("event: the same field names as the JSON form, at every level", () => {
    expect(fieldNameDiffs(readAvroSchema("vigil-event") as Node, eventJsonSchema(), new Set(["args"]))).toEqual([]);
  });

  it("command: the same field names as the JSON form, at every level", () => {
    const opaque = new Set(["caep.subject", "caep.claims"]);
    expect(fieldNameDiffs(readAvroSchema("vigil-command") as Node, commandJsonSchema(), opaque)).toEqual([]);
  });
});

describe("Avro codec round trip", () => {
  it.each(eventFixtures)("event $name: zod → Avro binary → zod is lossless", ({ value }) => {
    expect(eventRoundTrip(value)).toEqual(AgentEvent.parse(value));
  });

  it.each(commandFixtures)("command $name: zod → Avro binary → zod is lossless", ({ value }) => {
    expect(commandRoundTrip(value)).toEqual(Command.parse(value));
  });

  it("carries args, CAEP subject and claims as JSON text in fields of the same name", () => {
    const action = fixture("events/action.full.json");
    const record = eventToAvro(AgentEvent.parse(action));
    expect(typeof record.args).toBe("string");
    expect(JSON.parse(record.args as string)).toEqual(action.args);

    const grant = fixture("commands/grant.json");
    const caep = commandToAvro(Command.parse(grant)).caep as Node;
    expect(JSON.parse(caep.subject as string)).toEqual({ format: "opaque", id: "sess-42", iss: "https://vigil.example.com" });
    expect(JSON.parse(caep.claims as string)).toEqual((grant.caep as Node).claims);
  });

  it("absent optional fields are null in Avro and absent again when decoded", () => {
    const minimal = fixture("events/action.minimal.json");
    const record = eventToAvro(AgentEvent.parse(minimal));
    expect(record.context).toBeNull();
    expect(record.intent).toBeNull();
    expect(record.args).toBeNull();
    expect(eventType.isValid(record)).toBe(true);
    expect(eventFromAvro(eventType.fromBuffer(eventType.toBuffer(record)))).toEqual(minimal);
  });

  it("action.result: output and source are typed records, trust an Avro enum", () => {
    const record = eventToAvro(AgentEvent.parse(fixture("events/action-result.full.json")));
    expect(record.actionEventId).toBe("evt-0003");
    expect(record.output).toMatchObject({ bytes: 18432, truncated: true, mediaType: "message/rfc822" });
    expect(record.source).toEqual({ trust: "untrusted", origin: "mailbox:alice@example.com/inbox" });
    expect(record.intent).toBeNull();
    const trust = (((readAvroSchema("vigil-event") as Node).fields as Node[]).find((f) => f.name === "source")?.type as Node[])[1] as Node;
    expect((trust.fields as Node[])[0]?.type).toEqual([
      "null",
      expect.objectContaining({ type: "enum", symbols: ["trusted", "untrusted", "unknown"], default: "unknown" }),
    ]);
  });

  it("action.result without source, and with a producer's string source: null in Avro, absent when decoded", () => {
    for (const name of ["events/action-result.minimal.json", "events/action-result.string-source.json"]) {
      const record = eventToAvro(AgentEvent.parse(fixture(name)));
      expect(record.source, name).toBeNull();
      const back = AgentEvent.parse(eventFromAvro(eventType.fromBuffer(eventType.toBuffer(record))));
      expect(back, name).not.toHaveProperty("source");
    }
  });

  it("action.result with a text of exactly MAX_OUTPUT_TEXT characters (astral and multi-byte included) round-trips", () => {
    const text = "🙂é".repeat(MAX_OUTPUT_TEXT / 4) + "x".repeat(MAX_OUTPUT_TEXT / 4);
    expect(text).toHaveLength(MAX_OUTPUT_TEXT);
    const truncated = { ...fixture("events/action-result.full.json"), output: { text, bytes: 3 * MAX_OUTPUT_TEXT, truncated: true } };
    expect(eventRoundTrip(truncated)).toEqual(AgentEvent.parse(truncated));
  });

  it("an output.bytes above 2^31 survives as an Avro long", () => {
    const big = { ...fixture("events/action-result.minimal.json"), output: { bytes: 2 ** 40 + 7 } };
    expect(eventRoundTrip(big)).toMatchObject({ output: { bytes: 2 ** 40 + 7 } });
  });

  it("an args text that is not JSON is handed on, so zod reports it", () => {
    const record = eventToAvro(AgentEvent.parse(fixture("events/action.full.json")));
    const result = AgentEvent.safeParse(eventFromAvro({ ...record, args: "{not json" }));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["args"]);
  });
});

describe("required fields", () => {
  const sessionStarted = fixture("events/session-started.full.json");
  const action = fixture("events/action.full.json");
  const downgrade = fixture("commands/downgrade.json");

  it.each(["eventId", "type", "sessionId", "time", "agent", "agent.id", "principal", "principal.id", "intent.goal"])(
    "event without %s: rejected by Avro and by zod",
    (path) => {
      const record = without(eventToAvro(AgentEvent.parse(sessionStarted)), path);
      expect(eventType.isValid(record)).toBe(false);
      expect(() => eventType.toBuffer(record)).toThrow();
      expect(AgentEvent.safeParse(without(sessionStarted, path)).success).toBe(false);
    },
  );

  it("action event without action.capability: rejected by Avro and by zod", () => {
    const record = without(eventToAvro(AgentEvent.parse(action)), "action.capability");
    expect(eventType.isValid(record)).toBe(false);
    expect(AgentEvent.safeParse(without(action, "action.capability")).success).toBe(false);
  });

  it.each([
    "commandId",
    "type",
    "sessionId",
    "agentId",
    "principalId",
    "time",
    "causedBy",
    "riskScore",
    "reasons",
    "reasons.0.code",
    "reasons.0.message",
    "capabilities.removed",
    "review",
    "review.required",
    "caep",
    "caep.eventType",
    "caep.subject",
    "caep.event_timestamp",
    "caep.reason_admin",
    "caep.reason_admin.en",
  ])("command without %s: rejected by Avro and by zod", (path) => {
    const record = without(commandToAvro(Command.parse(downgrade)), path);
    expect(commandType.isValid(record)).toBe(false);
    expect(Command.safeParse(without(downgrade, path)).success).toBe(false);
  });

  it.each(["actionEventId", "output", "outcome"])("action.result with a null %s: a valid Avro record that zod rejects after decoding", (field) => {
    const record = { ...eventToAvro(AgentEvent.parse(fixture("events/action-result.full.json"))), [field]: null };
    expect(eventType.isValid(record)).toBe(true);
    const result = AgentEvent.safeParse(eventFromAvro(eventType.fromBuffer(eventType.toBuffer(record))));
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it("per-type required fields are nullable in the one Avro record: zod catches them after decoding", () => {
    // A session.started without intent is a well-formed Avro record (intent is null for other types)...
    const record = { ...eventToAvro(AgentEvent.parse(sessionStarted)), intent: null };
    expect(eventType.isValid(record)).toBe(true);
    // ...and the zod schema, which callers always apply to eventFromAvro's result, rejects it.
    const result = AgentEvent.safeParse(eventFromAvro(eventType.fromBuffer(eventType.toBuffer(record))));
    expect(result.error?.issues[0]?.path).toEqual(["intent"]);
  });
});

describe("unknown fields (ignored, never rejected)", () => {
  it("event with unknown fields: the known ones round-trip; avsc ignores undeclared properties", () => {
    expect(eventRoundTrip(extraEvent.value)).toEqual(AgentEvent.parse(extraEvent.value));
    const raw = { ...eventToAvro(AgentEvent.parse(extraEvent.value)), traceId: "x" };
    expect(eventType.isValid(raw)).toBe(true);
  });

  it("command with unknown fields round-trips to the zod-parsed value", () => {
    expect(commandRoundTrip(extraCommand.value)).toEqual(Command.parse(extraCommand.value));
  });

  it("a reader of the schema before v1.1 decodes a v1.1 action.result's common fields; an older reader does not fail", () => {
    const current = readAvroSchema("vigil-event") as { fields: { name: string }[] };
    const v1 = avro.Type.forSchema({ ...current, fields: current.fields.filter((f) => !["actionEventId", "output", "source"].includes(f.name)) } as AvroSchema);
    const buf = eventType.toBuffer(eventToAvro(AgentEvent.parse(fixture("events/action-result.full.json"))));
    const old = v1.fromBuffer(buf, v1.createResolver(eventType)) as Node;
    expect(old).toMatchObject({ eventId: "evt-0004", type: "action.result", outcome: "success" });
    // ...and v1.1 reads v1 data: the new fields take their default, null.
    const v1Buf = v1.toBuffer(v1.fromBuffer(buf, v1.createResolver(eventType)));
    expect(eventType.fromBuffer(v1Buf, eventType.createResolver(v1))).toMatchObject({ actionEventId: null, output: null, source: null });
  });

  it("a reader of the v1.2 schema decodes a v1.3 tools.listed's common fields, and v1.3 reads v1.2 data with no tools", () => {
    const current = readAvroSchema("vigil-event") as { fields: { name: string }[] };
    const v12 = avro.Type.forSchema({ ...current, fields: current.fields.filter((f) => f.name !== "tools") } as AvroSchema);
    const listing = AgentEvent.parse(fixture("events/tools-listed.json"));
    const buf = eventType.toBuffer(eventToAvro(listing));
    const old = v12.fromBuffer(buf, v12.createResolver(eventType)) as Node;
    expect(old).toMatchObject({ eventId: "evt-0009", type: "tools.listed", sessionId: "sess-42" });
    expect(old).not.toHaveProperty("tools");
    const v12Buf = v12.toBuffer(eventToAvro(AgentEvent.parse(fixture("events/action.full.json"))));
    expect(eventType.fromBuffer(v12Buf, eventType.createResolver(v12))).toMatchObject({ type: "action", tools: null });
  });

  it("a command's explanation (v1.5) round-trips; a v1.4 reader skips it, and v1.5 reads v1.4 data without one", () => {
    const explanation = "Agent assistant-7 tried expense.approve on ER-1042, but principal alice already did expense.submit on it earlier in this session.";
    const command = Command.parse({ ...fixture("commands/downgrade.json"), explanation });
    expect(commandRoundTrip(command)).toEqual(command);
    const current = readAvroSchema("vigil-command") as { fields: { name: string }[] };
    const v14 = avro.Type.forSchema({ ...current, fields: current.fields.filter((f) => f.name !== "explanation") } as AvroSchema);
    const buf = commandType.toBuffer(commandToAvro(command));
    const old = v14.fromBuffer(buf, v14.createResolver(commandType)) as Node;
    expect(old).toMatchObject({ commandId: command.commandId, type: "downgrade" });
    expect(old).not.toHaveProperty("explanation");
    const fromOld = commandType.fromBuffer(v14.toBuffer(old), commandType.createResolver(v14)) as Node;
    expect(fromOld).toMatchObject({ explanation: null });
    expect(Command.parse(commandFromAvro(fromOld))).not.toHaveProperty("explanation");
  });

  it("tools.listed: tools are typed records, absent texts null, and round-trip", () => {
    const record = eventToAvro(AgentEvent.parse(fixture("events/tools-listed.json")));
    const tools = record.tools as Node[];
    expect(tools[0]).toMatchObject({ name: "files__read_text_file", server: "files", annotations: { title: "Read Text File" }, truncated: null });
    expect(tools[1]).toMatchObject({ name: "memory__read_graph", description: null, parameters: null, annotations: null, truncated: true });
    expect(record.intent).toBeNull();
    expect(eventRoundTrip(fixture("events/tools-listed.json"))).toEqual(AgentEvent.parse(fixture("events/tools-listed.json")));
  });

  it("a trust symbol newer than the reader's schema reads as unknown (the enum's default)", () => {
    const current = readAvroSchema("vigil-event");
    const newer = avro.Type.forSchema(
      JSON.parse(
        JSON.stringify(current).replace('"symbols":["trusted","untrusted","unknown"]', '"symbols":["trusted","untrusted","unknown","verified"]'),
      ) as AvroSchema,
    );
    const record = eventToAvro(AgentEvent.parse(fixture("events/action-result.full.json")));
    const buf = newer.toBuffer({ ...record, source: { trust: "verified", origin: null } });
    const decoded = eventType.fromBuffer(buf, eventType.createResolver(newer));
    expect(AgentEvent.parse(eventFromAvro(decoded))).toMatchObject({ source: { trust: "unknown" } });
  });

  it("a reader on this schema decodes data written with a newer schema that added an optional field", () => {
    const base = readAvroSchema("vigil-event") as { fields: unknown[] };
    const newer = avro.Type.forSchema({
      ...base,
      fields: [...base.fields, { name: "riskHint", type: ["null", "string"], default: null }],
    } as AvroSchema);
    const value = AgentEvent.parse(extraEvent.value);
    const buf = newer.toBuffer({ ...eventToAvro(value), riskHint: "high" });
    const decoded: unknown = eventType.fromBuffer(buf, eventType.createResolver(newer));
    expect(AgentEvent.parse(eventFromAvro(decoded))).toEqual(value);
  });
});
