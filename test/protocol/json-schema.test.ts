import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { commandJsonSchema, eventJsonSchema, generatedSchemaFiles } from "../../src/adapters/json-schema.js";
import {
  AgentEvent,
  Command,
  MAX_LISTED_TOOLS,
  MAX_OUTPUT_TEXT,
  MAX_TOOL_DESCRIPTION,
  MAX_TOOL_PARAMETERS,
  MAX_TOOL_TEXT,
  validateEvent as validate,
} from "../../src/protocol/index.js";
import { commandFixtures, eventFixtures, extraCommand, extraEvent, fixture, without } from "./fixtures.js";

// `format: date-time` is not checked by Ajv without ajv-formats; the generated `pattern` (zod's
// RFC 3339 regex) enforces the timestamp shape instead.
const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
const validateEvent = ajv.compile(eventJsonSchema());
const validateCommand = ajv.compile(commandJsonSchema());

describe("JSON Schema files", () => {
  it.each(generatedSchemaFiles())("schemas/$file is up to date with src/protocol", ({ file, text }) => {
    const committed = readFileSync(new URL(`../../schemas/${file}`, import.meta.url), "utf8");
    expect(committed, `schemas/${file} is stale: run \`npm run build && node scripts/gen-schemas.mjs\``).toBe(text);
  });

  it("are draft 2020-12", () => {
    expect(eventJsonSchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(commandJsonSchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
});

describe("JSON Schema validation (Ajv, draft 2020-12)", () => {
  it.each(eventFixtures)("event $name is valid", ({ value }) => {
    expect(validateEvent(value), ajv.errorsText(validateEvent.errors)).toBe(true);
  });

  it.each(commandFixtures)("command $name is valid", ({ value }) => {
    expect(validateCommand(value), ajv.errorsText(validateCommand.errors)).toBe(true);
  });

  it("unknown fields are accepted (event and command)", () => {
    expect(validateEvent(extraEvent.value), ajv.errorsText(validateEvent.errors)).toBe(true);
    expect(validateCommand(extraCommand.value), ajv.errorsText(validateCommand.errors)).toBe(true);
  });

  const sessionStarted = fixture("events/session-started.full.json");
  const downgrade = fixture("commands/downgrade.json");

  it.each(["eventId", "sessionId", "time", "agent.id", "principal", "intent", "intent.goal"])("event without %s is rejected, as by zod", (path) => {
    expect(validateEvent(without(sessionStarted, path))).toBe(false);
    expect(AgentEvent.safeParse(without(sessionStarted, path)).success).toBe(false);
  });

  it.each(["commandId", "reasons.0.code", "review.required", "caep.subject", "caep.event_timestamp"])("command without %s is rejected, as by zod", (path) => {
    expect(validateCommand(without(downgrade, path))).toBe(false);
    expect(Command.safeParse(without(downgrade, path)).success).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an unknown event type", { type: "session.paused" }],
    ["a timestamp without a zone", { time: "2026-11-28T09:00:00" }],
    ["an empty eventId", { eventId: "" }],
    ["an unknown sensitivity ceiling", { intent: { goal: "g", maxSensitivity: "secret" } }],
  ])("event with %s is rejected, as by zod", (_label, patch) => {
    const bad = { ...sessionStarted, ...patch };
    expect(validateEvent(bad)).toBe(false);
    expect(AgentEvent.safeParse(bad).success).toBe(false);
  });

  const result = fixture("events/action-result.full.json");

  it.each(["actionEventId", "outcome", "output"])("action.result without %s is rejected, as by zod", (path) => {
    expect(validateEvent(without(result, path))).toBe(false);
    expect(AgentEvent.safeParse(without(result, path)).success).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an action's outcome (attempted)", { outcome: "attempted" }],
    ["an unknown trust value", { source: { trust: "verified" } }],
    ["a text over MAX_OUTPUT_TEXT characters", { output: { text: "x".repeat(MAX_OUTPUT_TEXT + 1) } }],
    ["a negative byte count", { output: { bytes: -1 } }],
    ["a fractional byte count", { output: { bytes: 1.5 } }],
    ["a string source over 1,024 characters", { source: "s".repeat(1025) }],
    ["a source that is neither an object nor a string", { source: 7 }],
  ])("action.result with %s is rejected, as by zod", (_label, patch) => {
    const bad = { ...result, ...patch };
    expect(validateEvent(bad)).toBe(false);
    expect(AgentEvent.safeParse(bad).success).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a text of exactly MAX_OUTPUT_TEXT characters", { output: { text: "x".repeat(MAX_OUTPUT_TEXT), truncated: true } }],
    ["an empty output", { output: {} }],
    ["a producer's name as source", { source: "agentdojo" }],
    ["a source without trust", { source: { origin: "https://example.org" } }],
  ])("action.result with %s is accepted, as by zod", (_label, patch) => {
    const ok = { ...result, ...patch };
    expect(validateEvent(ok), ajv.errorsText(validateEvent.errors)).toBe(true);
    expect(AgentEvent.safeParse(ok).success).toBe(true);
  });

  const listing = fixture("events/tools-listed.json");
  const firstTool = (listing.tools as Record<string, unknown>[])[0] as Record<string, unknown>;

  it.each<[string, Record<string, unknown>, string]>([
    ["no tools", { tools: undefined }, "tools: expected array, received undefined"],
    ["more than MAX_LISTED_TOOLS tools", { tools: Array.from({ length: MAX_LISTED_TOOLS + 1 }, () => firstTool) }, "tools: Too big"],
    ["a tool name that is no capability name", { tools: [{ ...firstTool, name: "read file" }] }, "tools.0.name: a capability name"],
    ["a tool without a server", { tools: [{ ...firstTool, server: undefined }] }, "tools.0.server: expected string"],
    ["a tool without a digest", { tools: [{ ...firstTool, digest: undefined }] }, "tools.0.digest: expected string"],
    [
      "a description over MAX_TOOL_DESCRIPTION",
      { tools: [{ ...firstTool, description: "x".repeat(MAX_TOOL_DESCRIPTION + 1) }] },
      "tools.0.description: Too big",
    ],
    ["a title over MAX_TOOL_TEXT", { tools: [{ ...firstTool, annotations: { title: "x".repeat(MAX_TOOL_TEXT + 1) } }] }, "tools.0.annotations.title: Too big"],
    [
      "more than MAX_TOOL_PARAMETERS parameters",
      { tools: [{ ...firstTool, parameters: Array.from({ length: MAX_TOOL_PARAMETERS + 1 }, () => ({ name: "p", description: "d" })) }] },
      "tools.0.parameters: Too big",
    ],
    ["a parameter without a description", { tools: [{ ...firstTool, parameters: [{ name: "p" }] }] }, "tools.0.parameters.0.description: expected string"],
  ])("tools.listed with %s is rejected, as by zod, naming the field", (_label, patch, message) => {
    const bad = { ...listing, ...patch };
    expect(validateEvent(bad)).toBe(false);
    const v = validate(bad);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.startsWith(message), v.error).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a risk score above 1", { riskScore: 1.2 }],
    ["a reason code outside the families", { reasons: [{ code: "misc.other", message: "m" }] }],
    ["no reasons", { reasons: [] }],
    ["an unknown command type", { type: "quarantine" }],
  ])("command with %s is rejected, as by zod", (_label, patch) => {
    const bad = { ...downgrade, ...patch };
    expect(validateCommand(bad)).toBe(false);
    expect(Command.safeParse(bad).success).toBe(false);
  });
});
