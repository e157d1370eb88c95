import { describe, expect, it } from "vitest";
import { CAEP_EVENT_TYPES } from "../../src/protocol/index.js";
import { compilePolicy } from "../../src/core/index.js";
import { action, contextChanged, given, sessionEnded, sessionStarted, specification } from "../support/given-when-then.js";

// Context: device compliance and a geo the principal never used (only with a mature baseline).

const goal = { goal: "Read the team wiki", capabilities: ["wiki.*"] };

describe("context scorer", () => {
  describe("device compliance", () => {
    const compliant = sessionStarted(0, goal, { context: { device: { id: "laptop-7", compliant: true } } });

    it("a device falling out of compliance demands a step-up", () =>
      given(compliant, action(10, "wiki.read", { kind: "read" }))
        .when(contextChanged(60, { device: { compliant: false } }))
        .then(({ codes, types, commands, session }) => {
          expect(codes).toEqual(["context.device_noncompliant"]);
          expect(types).toEqual(["step_up"]);
          expect(commands[0]?.caep.eventType).toBe(CAEP_EVENT_TYPES.assuranceLevelChange);
          expect(session.enforcement.stepUpRequired).toBe(true);
          expect(session.context.current.device?.id).toBe("laptop-7");
        }));

    it("staying non-compliant raises nothing new", () =>
      given(compliant, contextChanged(60, { device: { compliant: false } }))
        .when(contextChanged(90, { device: { compliant: false } }))
        .then(({ codes, commands }) => {
          expect(codes).not.toContain("context.device_noncompliant");
          expect(commands).toEqual([]);
        }));
  });

  describe("new geo", () => {
    const youngPolicy = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 1, minActions: 1 }\n");
    const history = [sessionStarted(0, goal, { context: { geo: "DE" } }), action(10, "wiki.read", { kind: "read" }), sessionEnded(20)];

    it("a geo the mature principal never used raises context.new_geo", () =>
      specification(youngPolicy)
        .given(...history)
        .when(sessionStarted(3600, goal, { session: "s2", context: { geo: "BR" } }))
        .then(({ codes }) => expect(codes).toEqual(["context.new_geo"])));

    it("a known geo raises nothing", () =>
      specification(youngPolicy)
        .given(...history)
        .when(sessionStarted(3600, goal, { session: "s2", context: { geo: "DE" } }))
        .then(({ codes }) => expect(codes).toEqual([])));

    it("abstains while the principal baseline is immature", () =>
      specification(compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 1 }\n"))
        .given(...history)
        .when(sessionStarted(3600, goal, { session: "s2", context: { geo: "BR" } }))
        .then(({ codes }) => expect(codes).not.toContain("context.new_geo")));

    it("abstains under the default policy after one session", () =>
      given(...history)
        .when(sessionStarted(3600, goal, { session: "s2", context: { geo: "BR" } }))
        .then(({ codes }) => expect(codes).toEqual([])));
  });
});
