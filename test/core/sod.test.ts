import { describe, expect, it } from "vitest";
import { action, contextChanged, given, sessionStarted } from "../support/given-when-then.js";

// Separation of duties (maker/checker): whoever submitted or requested something may not
// approve it, in any session, through any agent.

const manager = { principal: "mgr-1", agent: "agent-1", session: "s1" };
const intent = { goal: "Submit my expense report and clear my approvals queue", capabilities: ["expense.*", "purchase.*"] };
const grants = ["expense.submit", "expense.approve"];
const started = sessionStarted(0, intent, { ...manager, grants });
const expense = (id: string) => ({ type: "expense", id });
const submitR1 = action(10, "expense.submit", { ...manager, resource: expense("R1") });

describe("separation of duties", () => {
  it("seed story: the manager's agent submits R1 then approves it → downgrade removing expense.approve", () =>
    given(started, submitR1)
      .when(action(20, "expense.approve", { ...manager, resource: expense("R1") }))
      .then(({ codes, commands, types, decision, session }) => {
        expect(codes).toContain("sod.self_approval");
        expect(types).toEqual(["downgrade"]);
        const [cmd] = commands;
        expect(cmd?.capabilities).toEqual({ removed: ["expense.approve"], remaining: ["expense.submit"] });
        expect(cmd?.review).toEqual({ required: true, status: "pending" });
        expect(cmd?.reasons[0]?.code).toBe("sod.self_approval");
        expect(decision.verdict?.outcome).toBe("deny");
        expect(session.enforcement.deniedOn).toContainEqual({ capability: "expense.approve", resourceId: "R1" });
      }));

  it("another agent of the same principal, in another session, approving R1 is denied too", () =>
    given(started, submitR1, sessionStarted(100, intent, { principal: "mgr-1", agent: "agent-2", session: "s2", grants }))
      .when(action(110, "expense.approve", { principal: "mgr-1", agent: "agent-2", session: "s2", resource: expense("R1") }))
      .then(({ codes, commands, decision }) => {
        expect(codes).toContain("sod.self_approval");
        expect(commands.map((c) => [c.type, c.sessionId, c.capabilities?.removed])).toEqual([["downgrade", "s2", ["expense.approve"]]]);
        expect(decision.verdict?.outcome).toBe("deny");
      }));

  it("a different principal approving R1 is allowed", () =>
    given(started, submitR1, sessionStarted(100, intent, { principal: "mgr-2", agent: "agent-9", session: "s9", grants }))
      .when(action(110, "expense.approve", { principal: "mgr-2", agent: "agent-9", session: "s9", resource: expense("R1") }))
      .then(({ codes, commands, decision }) => {
        expect(codes).not.toContain("sod.self_approval");
        expect(commands).toEqual([]);
        expect(decision.verdict).toEqual({ outcome: "allow" });
      }));

  it("approving a different report R2 is allowed", () =>
    given(started, submitR1)
      .when(action(20, "expense.approve", { ...manager, resource: expense("R2") }))
      .then(({ codes, commands, decision }) => {
        expect(codes).not.toContain("sod.self_approval");
        expect(commands).toEqual([]);
        expect(decision.verdict).toEqual({ outcome: "allow" });
      }));

  it("request then approve of the same purchase is a violation too", () =>
    given(started, action(10, "purchase.request", { ...manager, resource: { type: "purchase", id: "P7" } }))
      .when(action(20, "purchase.approve", { ...manager, resource: { type: "purchase", id: "P7" } }))
      .then(({ codes, commands }) => {
        expect(codes).toContain("sod.self_approval");
        expect(commands[0]?.type).toBe("downgrade");
        expect(commands[0]?.capabilities?.removed).toEqual(["purchase.approve"]);
      }));

  it("the `*` binds one domain: purchase.request does not block expense.approve on the same id", () =>
    given(started, action(10, "purchase.request", { ...manager, resource: { type: "purchase", id: "X1" } }))
      .when(action(20, "expense.approve", { ...manager, resource: expense("X1") }))
      .then(({ codes }) => expect(codes).not.toContain("sod.self_approval")));

  it("a submit the enforcement point denied does not count as the first step", () =>
    given(started, action(10, "expense.submit", { ...manager, resource: expense("R1"), outcome: "denied" }))
      .when(action(20, "expense.approve", { ...manager, resource: expense("R1") }))
      .then(({ codes }) => expect(codes).not.toContain("sod.self_approval")));

  it("regression: a submit that succeeded while the session owed a step-up still counts as the first step", () =>
    given(
      started,
      contextChanged(5, { device: { compliant: false } }, manager),
      action(10, "expense.submit", { ...manager, resource: expense("R1"), outcome: "success" }),
    )
      .when(action(20, "expense.approve", { ...manager, resource: expense("R1"), outcome: "success" }))
      .then(({ codes, history }) => {
        expect(history[1]?.commands.map((c) => c.type)).toEqual(["step_up"]);
        expect(codes).toContain("sod.self_approval");
      }));
});
