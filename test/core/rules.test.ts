import { describe, expect, it } from "vitest";
import { PolicyError, compilePolicy } from "../../src/core/index.js";
import { action, contextChanged, given, sessionStarted, specification } from "../support/given-when-then.js";

// Policy rules in CEL: the shipped secrets-outside-intent rule, load-time type errors,
// and runtime errors that are reported but never block.

const typo = `version: 1
rules:
  - id: typo
    when: evnt.type == "action"
    decision: revoke
`;

function policyErrorOf(text: string): PolicyError {
  try {
    compilePolicy(text);
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error("compilePolicy did not throw");
}

describe("rule scorer", () => {
  const db = sessionStarted(0, { goal: "Summarise the quarterly sales numbers", capabilities: ["db.*"] });
  const secretRead = action(10, "db.read", { kind: "read", resource: { id: "prod", sensitivity: ["secret"] } });

  it("secrets-outside-intent revokes a session reading a secret without a secrets.* capability", () =>
    given(db)
      .when(secretRead)
      .then(({ codes, types, commands, decision }) => {
        expect(codes).toContain("rule.secrets-outside-intent");
        expect(types).toEqual(["revoke"]);
        expect(commands[0]?.reasons[0]?.code).toBe("rule.secrets-outside-intent");
        expect(commands[0]?.review).toEqual({ required: true, status: "pending" });
        expect(decision.verdict?.outcome).toBe("deny");
      }));

  it("secrets-outside-intent stays silent when the intent declares secrets.*", () =>
    given(sessionStarted(0, { goal: "Summarise the quarterly sales numbers", capabilities: ["db.*", "secrets.*"] }))
      .when(secretRead)
      .then(({ codes, types }) => {
        expect(codes).not.toContain("rule.secrets-outside-intent");
        expect(types).not.toContain("revoke");
      }));

  it("a CEL typo makes compilePolicy throw a PolicyError naming the field (extends: none)", () => {
    const error = policyErrorOf(typo.replace("version: 1\n", "version: 1\nextends: none\n"));
    expect(error.code).toBe("POLICY_INVALID");
    expect(error.retriable).toBe(false);
    expect(error.problems.map((p) => p.field)).toEqual(["rules.0.when"]);
    expect(error.problems[0]?.message).toContain("evnt");
  });

  it("a CEL typo is reported against the file's own rule index, not the merged one (was rules.2.when)", () => {
    expect(policyErrorOf(typo).problems.map((p) => p.field)).toEqual(["rules.0.when"]);
  });

  it("a CEL typo is reported on its line in the policy file (was line 0)", () => {
    expect(policyErrorOf(typo).problems[0]?.line).toBe(4);
    expect(policyErrorOf(typo).message).toContain("policy.yaml:4:");
  });

  describe("a rule erroring at runtime", () => {
    const policy = compilePolicy(`version: 1
rules:
  - id: big-payment
    when: event.type == "action" && event.args.amount > 1000.0
    decision: revoke
`);
    const payments = sessionStarted(0, { goal: "Pay the supplier invoice", capabilities: ["payments.*"] });

    it("is reported in decision.ruleErrors and does not block", () =>
      specification(policy)
        .given(payments)
        .when(action(10, "payments.send", { resource: { external: false } }))
        .then(({ decision, commands, codes }) => {
          expect(decision.ruleErrors.map((e) => e.ruleId)).toEqual(["big-payment"]);
          expect(codes).not.toContain("rule.big-payment");
          expect(commands).toEqual([]);
          expect(decision.verdict).toEqual({ outcome: "allow" });
        }));

    it("still decides when the data is there", () =>
      specification(policy)
        .given(payments)
        .when(action(10, "payments.send", { resource: { external: false }, args: { amount: 5000 } }))
        .then(({ decision, types }) => {
          expect(decision.ruleErrors).toEqual([]);
          expect(types).toEqual(["revoke"]);
        }));
  });

  describe("an opening event-type guard", () => {
    const policy = compilePolicy(`version: 1
extends: none
rules:
  - id: guarded
    when: event.type == "action" && event.args.amount > 1000.0
    decision: revoke
  - id: either
    when: event.type == "action" && event.args.amount > 1000.0 || event.type == "context.changed"
    decision: step_up
  - id: ternary
    when: 'event.type == "action" && has(event.args) ? false : event.type == "context.changed"'
    decision: downgrade
  - id: grouped
    when: event.type == "action" && (event.args.amount > 1000.0 || event.type == "context.changed")
    decision: revoke
`);
    const guardOf = (id: string) => policy.rules.find((r) => r.entry.id === id)?.eventType;

    it("binds the whole condition only when no || or ?: sits outside parentheses", () => {
      expect(guardOf("guarded")).toBe("action");
      expect(guardOf("grouped")).toBe("action");
      expect(guardOf("either")).toBeUndefined();
      expect(guardOf("ternary")).toBeUndefined();
    });

    it("still fires on its own event type", () =>
      specification(policy)
        .given(sessionStarted(0, { goal: "Pay the supplier invoice", capabilities: ["payments.*"] }))
        .when(action(10, "payments.send", { args: { amount: 5000 } }))
        .then(({ codes }) => {
          expect(codes).toContain("rule.guarded");
          expect(codes).toContain("rule.either");
          expect(codes).toContain("rule.grouped");
        }));

    it("lets an unguarded rule fire on other event types", () =>
      specification(policy)
        .given(sessionStarted(0, { goal: "Pay the supplier invoice", capabilities: ["payments.*"] }))
        .when(contextChanged(10, { geo: "FR" }))
        .then(({ codes, decision }) => {
          expect(codes).toContain("rule.either");
          expect(codes).toContain("rule.ternary");
          expect(codes).not.toContain("rule.guarded");
          expect(decision.ruleErrors).toEqual([]);
        }));
  });
});
