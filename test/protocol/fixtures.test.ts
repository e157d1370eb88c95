import { describe, expect, it } from "vitest";
import { AgentEvent, Command, COMMAND_TYPES, EVENT_TYPES } from "../../src/protocol/index.js";
import { commandFixtures, eventFixtures, extraCommand, extraEvent } from "./fixtures.js";

describe("protocol fixtures", () => {
  it("cover every event type and the commands the brief names", () => {
    expect(new Set(eventFixtures.map((f) => f.value.type))).toEqual(new Set(EVENT_TYPES));
    expect(commandFixtures.map((f) => f.value.type).sort()).toEqual(["downgrade", "grant", "revoke"]);
    for (const f of commandFixtures) expect(COMMAND_TYPES).toContain(f.value.type);
  });

  it.each(eventFixtures)("event $name passes zod", ({ value }) => {
    const parsed = AgentEvent.safeParse(value);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it.each(commandFixtures)("command $name passes zod", ({ value }) => {
    const parsed = Command.safeParse(value);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it("unknown fields are ignored (stripped), never rejected, by zod", () => {
    const event = AgentEvent.parse(extraEvent.value);
    expect(event).not.toHaveProperty("traceId");
    expect(event).not.toHaveProperty("x-vendor");
    expect(event.agent).toEqual({ id: "agent-expenses" });
    const command = Command.parse(extraCommand.value);
    expect(command).not.toHaveProperty("policyVersion");
    expect(command.review).toEqual({ required: false });
  });
});
