import { describe, expect, it } from "vitest";
import { unauthenticated } from "../../src/app/authenticity.js";
import { compilePolicy, PolicyError } from "../../src/core/index.js";
import { AgentEvent } from "../../src/protocol/index.js";
import { action as anAction, actionResult, sessionStarted } from "../support/given-when-then.js";

// Policy `authenticity`: which producers may publish which events. The decision on one
// event, given what the adapter read from its record (header, signature outcome).

const who = { session: "s1", agent: "a", principal: "p" };
const action = AgentEvent.parse(anAction(0, "mail.send", { ...who, id: "e1" }));
const result = AgentEvent.parse(actionResult(0, "e1", "ok", { ...who, id: "e2" }));
const started = AgentEvent.parse(sessionStarted(0, { goal: "mail" }, { ...who, id: "e0" }));

const policy = (body: string) => compilePolicy(`version: 1\nauthenticity:\n${body}`);

describe("policy authenticity", () => {
  it("is absent from the shipped policy, whose version does not change", () => {
    expect(compilePolicy().authenticity).toBeUndefined();
    expect(compilePolicy("version: 1\n").version).toBe(compilePolicy().version);
    expect(unauthenticated(compilePolicy(), action, {})).toBeUndefined();
  });

  it("require: producer — the vigil-producer header must match a producers glob; other event types pass", () => {
    const p = policy('  require: producer\n  producers: ["gateway-*"]\n');
    expect([...(p.authenticity?.types ?? [])]).toEqual(["action", "action.result"]);
    expect(unauthenticated(p, action, { claimed: "gateway-eu-1" })).toBeUndefined();
    expect(unauthenticated(p, result, { claimed: "agent-7" })).toMatch(
      /action.result event e2 for session s1: producer "agent-7" is not among authenticity.producers/,
    );
    expect(unauthenticated(p, action, {})).toMatch(/no vigil-producer header/);
    expect(unauthenticated(p, started, {})).toBeUndefined();
    expect(unauthenticated(p, result, { claimed: "x".repeat(100_000) })?.length).toBeLessThan(500);
  });

  it("require: signature — a verified key id matching producers; unsigned, refused and other keys are not", () => {
    const p = policy('  require: signature\n  producers: ["gateway-*"]\n  types: [action, action.result, session.started]\n');
    expect(unauthenticated(p, action, { signature: { ok: true, kid: "gateway-1" } })).toBeUndefined();
    expect(unauthenticated(p, action, { claimed: "gateway-1" })).toMatch(/unsigned/);
    expect(unauthenticated(p, started, { signature: { ok: false, reason: "bad_signature", detail: "the signature does not match the value" } })).toMatch(
      /session.started event e0 .*refused \(bad_signature/,
    );
    expect(unauthenticated(p, result, { signature: { ok: true, kid: "rogue-1" } })).toMatch(/signed by key "rogue-1", which is not among/);
  });

  it("a bad authenticity block is a policy error naming the field", () => {
    expect(() => policy("  require: maybe\n  producers: []\n")).toThrow(PolicyError);
    expect(() => policy("  require: signature\n  producers: [a]\n  types: [actions]\n")).toThrow(/authenticity\.types\.0/);
  });
});
