import { describe, expect, it } from "vitest";
import { InvalidEventError, MAX_OUTPUT_TEXT, toolOutput, validateForPublish } from "../../src/sdk/publisher.js";
import type { EventInput } from "../../src/sdk/publisher.js";

// What the publisher checks before anything reaches Kafka, for action.result, and the
// toolOutput() helper a gateway builds its output with. (Sending is covered against the
// real broker in publisher.int.test.ts.)

const now = () => new Date("2026-11-28T09:00:00Z");
const newId = () => "r-1";
const result = (patch: Record<string, unknown> = {}) =>
  ({
    type: "action.result",
    sessionId: "s1",
    agent: { id: "a1" },
    principal: { id: "p1" },
    actionEventId: "e-7",
    outcome: "success",
    output: { text: "ok" },
    ...patch,
  }) as EventInput;
const rejection = (input: EventInput): InvalidEventError => {
  try {
    validateForPublish(input, now, newId);
  } catch (e) {
    if (e instanceof InvalidEventError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("publisher: an action.result is validated before sending", () => {
  it("fills eventId and time, keeps source", () => {
    expect(validateForPublish(result({ source: { trust: "untrusted", origin: "https://example.org" } }), now, newId)).toEqual({
      type: "action.result",
      eventId: "r-1",
      time: "2026-11-28T09:00:00.000Z",
      sessionId: "s1",
      agent: { id: "a1" },
      principal: { id: "p1" },
      actionEventId: "e-7",
      outcome: "success",
      output: { text: "ok" },
      source: { trust: "untrusted", origin: "https://example.org" },
    });
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["no actionEventId", { actionEventId: undefined }, "actionEventId", /^invalid action\.result event: actionEventId: expected string, received undefined$/],
    ["an action's outcome", { outcome: "attempted" }, "outcome", /^invalid action\.result event: outcome: Invalid option/],
    ["no output", { output: undefined }, "output", /output: expected object/],
    ["a negative size", { output: { bytes: -3 } }, "output.bytes", /output\.bytes: Too small/],
    ["an unknown trust", { source: { trust: "verified" } }, "source.trust", /source\.trust: Invalid option: expected one of "trusted"\|"untrusted"\|"unknown"/],
    ["a text over the limit", { output: { text: "x".repeat(MAX_OUTPUT_TEXT + 1) } }, "output.text", /output\.text: 65537 characters, over the limit of 65536/],
  ])("with %s: InvalidEventError naming %s", (_label, patch, field, message) => {
    const e = rejection(result(patch));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.length).toBeLessThan(300);
  });
});

describe("toolOutput()", () => {
  it("keeps a short text whole, with its UTF-8 size", () => {
    expect(toolOutput("héllo 🙂", { mediaType: "text/plain" })).toEqual({ text: "héllo 🙂", bytes: 11, truncated: false, mediaType: "text/plain" });
    expect(toolOutput("")).toEqual({ text: "", bytes: 0, truncated: false });
  });

  it("cuts a long text at MAX_OUTPUT_TEXT, says so, and keeps the full size", () => {
    const text = "é".repeat(MAX_OUTPUT_TEXT + 10);
    const out = toolOutput(text);
    expect(out).toMatchObject({ bytes: 2 * (MAX_OUTPUT_TEXT + 10), truncated: true });
    expect(out.text).toBe(text.slice(0, MAX_OUTPUT_TEXT));
    expect(validateForPublish(result({ output: out }), now, newId)).toMatchObject({ output: { truncated: true } });
  });

  it("never cuts inside a surrogate pair", () => {
    const out = toolOutput("ab🙂cd", { maxText: 3 });
    expect(out).toMatchObject({ text: "ab", truncated: true, bytes: 8 });
    expect(toolOutput("ab🙂cd", { maxText: 4 }).text).toBe("ab🙂");
  });

  it("a larger maxText than the limit is capped at the limit", () => {
    expect(toolOutput("y".repeat(MAX_OUTPUT_TEXT + 1), { maxText: 10 * MAX_OUTPUT_TEXT }).text).toHaveLength(MAX_OUTPUT_TEXT);
  });
});
