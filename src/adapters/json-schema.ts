import { z } from "zod";
import { AVRO_SCHEMAS, AgentEvent, Command, SessionStatus } from "../protocol/index.js";

// JSON Schema (draft 2020-12) of the wire contract, generated from the zod schemas so the two
// cannot drift. `io: "input"` describes what a producer may send: objects stay open (no
// `additionalProperties: false`), because unknown fields are ignored, never rejected.
// The committed copies live in schemas/*.schema.json; test/protocol/json-schema.test.ts fails
// when they are stale. Regenerate with `npm run build && node scripts/gen-schemas.mjs`.

export type JsonSchema = Record<string, unknown>;

function generate(schema: z.ZodType, title: string, description: string): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return { $schema, title, description, ...rest };
}

export function eventJsonSchema(): JsonSchema {
  return generate(
    AgentEvent,
    "AgentEvent",
    "Vigil agent event, docs/contract.md, events (topic vigil.events, key = sessionId). Generated from src/protocol/event.ts.",
  );
}

export function commandJsonSchema(): JsonSchema {
  return generate(
    Command,
    "Command",
    "Vigil enforcement command, docs/contract.md, commands (topic vigil.commands, key = sessionId). Generated from src/protocol/command.ts.",
  );
}

export function statusJsonSchema(): JsonSchema {
  return generate(
    SessionStatus,
    "SessionStatus",
    "Vigil session status (compacted topic vigil.session-status, key = sessionId). Generated from src/protocol/session-status.ts.",
  );
}

/** The files under schemas/ and their content, exactly as committed (2-space JSON, trailing newline). */
export function generatedSchemaFiles(): ReadonlyArray<{ file: string; text: string }> {
  return [
    { file: "vigil-event.schema.json", text: `${JSON.stringify(eventJsonSchema(), null, 2)}\n` },
    { file: "vigil-command.schema.json", text: `${JSON.stringify(commandJsonSchema(), null, 2)}\n` },
    { file: "vigil-session-status.schema.json", text: `${JSON.stringify(statusJsonSchema(), null, 2)}\n` },
    ...Object.entries(AVRO_SCHEMAS).map(([name, schema]) => ({ file: `${name}.avsc`, text: `${JSON.stringify(schema, null, 2)}\n` })),
  ];
}
