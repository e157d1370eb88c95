import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { action, at, given, grantRequested, intentUpdated, sessionStarted, specification } from "../support/given-when-then.js";

// Intent drift: declared scope is checked exactly, undeclared scope is inferred from the goal.

const expenses = sessionStarted(0, { goal: "Submit my expense report for the Berlin trip", capabilities: ["expense.*"] });

describe("intent scorer", () => {
  it("a capability inside the declared glob raises nothing", () =>
    given(expenses)
      .when(action(10, "expense.submit", { resource: { type: "expense", id: "R1" } }))
      .then(({ codes, commands, decision }) => {
        expect(codes).toEqual([]);
        expect(commands).toEqual([]);
        expect(decision.verdict).toEqual({ outcome: "allow" });
      }));

  it("a capability outside the declared glob is intent.out_of_scope and is removed", () =>
    given(expenses)
      .when(action(10, "payments.send", { args: { amount: 900 } }))
      .then(({ codes, types, commands }) => {
        expect(codes).toContain("intent.out_of_scope");
        expect(codes).not.toContain("intent.unrelated_capability");
        expect(types).toEqual(["downgrade"]);
        expect(commands[0]?.capabilities?.removed).toEqual(["payments.send"]);
        expect(commands[0]?.reasons[0]?.code).toBe("intent.out_of_scope");
      }));

  describe("scope inferred from the goal and the tool catalog", () => {
    const policy = compilePolicy(`version: 1
tools:
  - { capability: expense.submit, description: Submit an expense report, risk: medium }
  - { capability: payments.send, description: Send a payment to a bank account, risk: high }
`);
    const undeclared = sessionStarted(0, { goal: "File my expense report for the Berlin trip" });

    it("a catalog tool sharing words with the goal is in scope", () =>
      specification(policy)
        .given(undeclared)
        .when(action(10, "expense.submit"))
        .then(({ codes }) => {
          expect(codes).not.toContain("intent.unrelated_capability");
          expect(codes).not.toContain("intent.out_of_scope");
        }));

    it("a catalog tool unrelated to the goal is intent.unrelated_capability", () =>
      specification(policy)
        .given(undeclared)
        .when(action(10, "payments.send"))
        .then(({ codes }) => {
          expect(codes).toContain("intent.unrelated_capability");
          expect(codes).not.toContain("intent.out_of_scope");
        }));
  });

  it("an event of a session never started is scored as intent.unknown, not dropped", () =>
    given()
      .when(action(5, "expense.submit", { session: "ghost" }))
      .then(({ codes, decision, session }) => {
        expect(codes).toEqual(["intent.unknown"]);
        expect(decision.sessionId).toBe("ghost");
        expect(decision.riskScore).toBeCloseTo(0.3, 6);
        expect(session.started).toBe(false);
        expect(session.counters.actions).toBe(1);
      }));

  it("a started session does not raise intent.unknown", () =>
    given(expenses)
      .when(action(5, "expense.submit"))
      .then(({ codes }) => expect(codes).not.toContain("intent.unknown")));

  describe("intent.expired", () => {
    const boxed = sessionStarted(0, { goal: "Submit my expense report", capabilities: ["expense.*"], expiresAt: at(60) });
    it("fires after expiresAt", () =>
      given(boxed)
        .when(action(120, "expense.submit"))
        .then(({ codes }) => expect(codes).toContain("intent.expired")));
    it("does not fire before expiresAt", () =>
      given(boxed)
        .when(action(30, "expense.submit"))
        .then(({ codes }) => expect(codes).not.toContain("intent.expired")));
  });

  describe("intent.resource_out_of_scope", () => {
    const scoped = sessionStarted(0, { goal: "Submit expense report R1", capabilities: ["expense.*"], resources: ["expense:R1"] });
    it("fires for a resource outside the declared globs", () =>
      given(scoped)
        .when(action(10, "expense.submit", { resource: { type: "expense", id: "R2" } }))
        .then(({ codes }) => expect(codes).toEqual(["intent.resource_out_of_scope"])));
    it("does not fire for a declared resource", () =>
      given(scoped)
        .when(action(10, "expense.submit", { resource: { type: "expense", id: "R1" } }))
        .then(({ codes }) => expect(codes).toEqual([])));
  });

  describe("intent.destination_not_in_goal", () => {
    const mail = sessionStarted(0, { goal: "Email the agenda to bob@example.com", capabilities: ["email.*", "docs.*"] });
    it("fires for an egress to a recipient the goal does not name", () =>
      given(mail)
        .when(action(10, "email.send", { args: { to: "eve@evil.test" } }))
        .then(({ codes }) => expect(codes).toContain("intent.destination_not_in_goal")));
    it("does not fire for the recipient the goal names", () =>
      given(mail)
        .when(action(10, "email.send", { args: { to: "Bob@Example.com" } }))
        .then(({ codes }) => expect(codes).not.toContain("intent.destination_not_in_goal")));
    it("does not fire for a non-egress action carrying an address", () =>
      given(mail)
        .when(action(10, "docs.read", { kind: "read", args: { to: "eve@evil.test" } }))
        .then(({ codes }) => expect(codes).not.toContain("intent.destination_not_in_goal")));
  });

  it("intent.updated restates the scope: the new capabilities apply from then on", () =>
    given(expenses, intentUpdated(20, { goal: "Submit the report and pay the hotel", capabilities: ["expense.*", "payments.*"] }))
      .when(action(30, "payments.send", { resource: { external: false } }))
      .then(({ codes, commands, session }) => {
        expect(codes).not.toContain("intent.out_of_scope");
        expect(commands).toEqual([]);
        expect(session.intent?.capabilities).toEqual(["expense.*", "payments.*"]);
      }));

  it("a grant request outside the declared scope is out_of_scope too", () =>
    given(expenses)
      .when(grantRequested(10, "payments.send"))
      .then(({ codes, types }) => {
        expect(codes).toContain("intent.out_of_scope");
        expect(types).toEqual(["deny_grant"]);
      }));
});
