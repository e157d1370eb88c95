import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { action, at, grantRequested, sessionStarted, specification } from "../support/given-when-then.js";

// Just-in-time grants: inside the intent, from an unrestricted low-risk session, granted
// for at most scoring.grants.maxTtlSeconds; anything else denied with the reasons.

const policy = compilePolicy("version: 1\nscoring:\n  grants: { maxTtlSeconds: 600 }\n");
const spec = specification(policy);
const expenses = sessionStarted(0, { goal: "Approve the team's expense reports", capabilities: ["expense.*"] }, { grants: ["expense.read"] });

describe("grant.requested", () => {
  it("within intent → grant, expiresAt capped at maxTtlSeconds", () =>
    spec
      .given(expenses)
      .when(grantRequested(10, "expense.approve", { ttlSeconds: 7200, purpose: "approve R1" }))
      .then(({ types, commands, session }) => {
        expect(types).toEqual(["grant"]);
        expect(commands[0]?.expiresAt).toBe(at(610));
        expect(commands[0]?.capabilities).toEqual({ removed: [], remaining: ["expense.read", "expense.approve"] });
        expect(commands[0]?.reasons.map((r) => r.code)).toEqual(["grant.within_intent"]);
        expect(session.jitGrants).toEqual([{ capability: "expense.approve", expiresAt: at(610) }]);
      }));

  it("a shorter ttl is honoured", () =>
    spec
      .given(expenses)
      .when(grantRequested(10, "expense.approve", { ttlSeconds: 60 }))
      .then(({ commands }) => expect(commands[0]?.expiresAt).toBe(at(70))));

  it("no ttl gets the maximum", () =>
    spec
      .given(expenses)
      .when(grantRequested(10, "expense.approve"))
      .then(({ commands }) => expect(commands[0]?.expiresAt).toBe(at(610))));

  it("outside intent → deny_grant naming intent.out_of_scope, nothing granted", () =>
    spec
      .given(expenses)
      .when(grantRequested(10, "payments.send", { ttlSeconds: 60 }))
      .then(({ types, commands, session }) => {
        expect(types).toEqual(["deny_grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toContain("intent.out_of_scope");
        expect(commands[0]?.expiresAt).toBeUndefined();
        expect(session.jitGrants).toEqual([]);
      }));

  it("a revoked session is denied even inside its intent", () =>
    spec
      .given(expenses, action(10, "expense.read", { kind: "read", resource: { id: "k", sensitivity: ["credentials"] } }))
      .when(grantRequested(20, "expense.approve"))
      .then(({ types, commands }) => {
        expect(types).toEqual(["deny_grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toContain("grant.session_restricted");
      }));

  it("a risky session is denied with grant.risk_too_high", () =>
    spec
      .given(expenses, action(10, "billing.update", { kind: "write" }))
      .when(grantRequested(20, "expense.approve"))
      .then(({ types, commands }) => {
        expect(types).toEqual(["deny_grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toContain("grant.risk_too_high");
      }));

  it("a granted capability falls away once it expires in event time", () =>
    spec
      .given(expenses, grantRequested(10, "expense.approve", { ttlSeconds: 60 }))
      .when(action(71, "expense.read", { kind: "read" }))
      .then(({ session }) => expect(session.jitGrants).toEqual([])));
});
