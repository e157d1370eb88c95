import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/protocol/index.js";
import { check, compilePolicy } from "../../src/core/index.js";
import type { Baseline } from "../../src/core/index.js";
import { withFeedback } from "../../src/core/review.js";
import { World, action, at, sessionStarted } from "../support/given-when-then.js";

// Review cases and verdicts in the pure core: the self-approval hold opens a case; a verdict
// on it (review.decided) overturns it (everything given back, a restore), confirms it (the
// hold stays, no longer pending) or confirms and revokes. A verdict on another case, or a
// second verdict, changes nothing. Verdicts are events: the same events decide the same.

const report = { type: "expense_report", id: "ER-1", sensitivity: ["financial"] };
const held = (): AgentEvent[] => [
  sessionStarted(0, { goal: "File my trip report and get it approved" }, { grants: ["expense.submit", "expense.approve", "expense.read"], principal: "alice" }),
  action(10, "expense.submit", { kind: "write", resource: report, principal: "alice" }),
  action(20, "expense.approve", { kind: "write", resource: report, principal: "alice" }),
];
const verdict = (t: number, caseId: string, v: "confirmed" | "overturned", extra: { revoke?: boolean; id?: string } = {}): AgentEvent => ({
  eventId: extra.id ?? `verdict@${t}`,
  type: "review.decided",
  sessionId: "s1",
  time: at(t),
  agent: { id: "agent-1" },
  principal: { id: "alice" },
  review: { caseId, verdict: v, reviewer: "bob", note: "checked with finance", ...(extra.revoke ? { revoke: true } : {}) },
});

function holding(): { world: World; caseId: string } {
  const world = new World();
  const outs = held().map((e) => world.handle(e));
  const hold = outs[2]?.commands[0];
  expect(hold?.type).toBe("downgrade");
  expect(hold?.review).toEqual({ required: true, status: "pending" });
  const open = world.sessions.get("s1")?.openCase;
  expect(open?.openedAt).toBe(at(20));
  expect(open?.reasons.map((r) => [r.code, r.hard])).toContainEqual(["sod.self_approval", true]);
  return { world, caseId: open?.caseId as string };
}

describe("review verdicts (core)", () => {
  it("overturned: a restore gives every capability back, lifts the hold and clears the risk", () => {
    const { world, caseId } = holding();
    const out = world.handle(verdict(60, caseId, "overturned"));
    expect(out.commands.map((c) => c.type)).toEqual(["restore"]);
    const restore = out.commands[0];
    expect(restore?.review).toEqual({ required: false, status: "overturned" });
    expect(restore?.capabilities).toEqual({ removed: [], remaining: ["expense.submit", "expense.approve", "expense.read"] });
    expect(restore?.reasons[0]?.code).toBe("review.overturned");
    expect(restore?.reasons[0]?.message).toContain("bob: checked with finance");
    expect(restore?.caep.eventType).toMatch(/token-claims-change$/);
    expect(out.decision?.level).toBe("overturned");
    const s = out.session;
    expect(s.openCase).toBeUndefined();
    expect(s.risk.score).toBe(0);
    expect(check(s.enforcement, "expense.approve", "ER-1")).toEqual({ outcome: "allow" });
    expect(s.enforcement.review).toEqual({ required: false, status: "overturned" });
  });

  it("confirmed: the hold stays, no longer pending, and no command", () => {
    const { world, caseId } = holding();
    const out = world.handle(verdict(60, caseId, "confirmed"));
    expect(out.commands).toEqual([]);
    expect(out.decision?.level).toBe("confirmed");
    expect(out.session.openCase).toBeUndefined();
    expect(out.session.enforcement.review).toEqual({ required: false, status: "confirmed" });
    expect(check(out.session.enforcement, "expense.approve", "ER-1").outcome).toBe("deny");
  });

  it("confirmed with revoke: the session is revoked", () => {
    const { world, caseId } = holding();
    const out = world.handle(verdict(60, caseId, "confirmed", { revoke: true }));
    expect(out.commands.map((c) => [c.type, c.review.status, c.reasons[0]?.code])).toEqual([["revoke", "confirmed", "review.confirmed"]]);
    expect(out.session.enforcement.revoked).toBe(true);
    expect(check(out.session.enforcement, "expense.read").outcome).toBe("deny");
  });

  it("a verdict on another case, or a second verdict on this one, changes nothing", () => {
    const { world, caseId } = holding();
    const other = world.handle(verdict(50, "case_not_this_one", "overturned"));
    expect(other.commands).toEqual([]);
    expect(other.decision?.level).toBe("ignored");
    expect(other.session.openCase?.caseId).toBe(caseId);
    world.handle(verdict(60, caseId, "confirmed"));
    const again = world.handle(verdict(70, caseId, "overturned"));
    expect(again.commands).toEqual([]);
    expect(check(again.session.enforcement, "expense.approve", "ER-1").outcome).toBe("deny");
  });

  it("a later hold after a verdict opens a new case; the same events decide the same ids", () => {
    const run = () => {
      const { world, caseId } = holding();
      const restore = world.handle(verdict(60, caseId, "overturned")).commands;
      const again = world.handle(action(80, "expense.approve", { kind: "write", resource: report, principal: "alice", id: "approve-again" }));
      return { caseId, restore, again: again.commands, next: world.sessions.get("s1")?.openCase?.caseId };
    };
    const a = run();
    const b = run();
    expect(a.again.map((c) => c.type)).toEqual(["downgrade"]);
    expect(a.next).toBeDefined();
    expect(a.next).not.toBe(a.caseId);
    expect(b).toEqual(a);
  });
});

// Feedback: a finding a person overturned weighs less for that agent and capability,
// `scoring.review.feedback.step` times per overturn, never below `floor`, fading back in
// event time; never for separation of duties or findings with their own decision.
describe("review feedback (core)", () => {
  const mailOnly = (session: string, t: number) => sessionStarted(t, { goal: "Read my mail", capabilities: ["mail.read"] }, { session, grants: ["mail.read"] });
  const transfer = (session: string, t: number) => action(t, "payments.transfer", { session, kind: "write", resource: { id: `P-${t}` } });
  const outOfScope = (o: ReturnType<World["handle"]>) => o.decision?.signals.find((s) => s.code === "intent.out_of_scope")?.weight ?? 0;
  const overturnSoft = (world: World, session: string, t: number) => {
    world.handle(mailOnly(session, t));
    let held = world.handle(transfer(session, t + 10));
    for (let i = 2; !held.commands.some((c) => c.review.required) && i < 12; i++) held = world.handle(transfer(session, t + 10 * i));
    const open = world.sessions.get(session)?.openCase;
    expect(open?.reasons.some((r) => r.code === "intent.out_of_scope" && !r.hard)).toBe(true);
    return world.handle({ ...verdict(t + 100, open?.caseId as string, "overturned"), sessionId: session, eventId: `verdict-${session}` });
  };

  it("an overturned soft finding weighs `step` times less for the agent's next sessions, never below the floor", () => {
    const fresh = new World();
    fresh.handle(mailOnly("fresh", 0));
    const base = outOfScope(fresh.handle(transfer("fresh", 10)));
    expect(base).toBeGreaterThan(0);

    const world = new World();
    const first = overturnSoft(world, "a", 0);
    expect(first.decision?.feedback).toEqual([{ code: "intent.out_of_scope", capability: "payments.transfer", factor: 0.5 }]);
    world.handle(mailOnly("b", 200));
    expect(outOfScope(world.handle(transfer("b", 210)))).toBeCloseTo(base * 0.5, 3);
    // Overturned again (a softer finding may no longer reach a hold, so straight through withFeedback): 0.25, then the floor.
    const reason = [{ code: "intent.out_of_scope", capability: "payments.transfer", hard: false }];
    const policy = compilePolicy();
    const agent = world.baselines.get("agent:agent-1") as Baseline;
    const second = withFeedback(policy, agent, reason, at(300));
    expect(second.feedback[0]?.factor).toBeCloseTo(0.25, 3);
    expect(withFeedback(policy, second.baseline, reason, at(400)).feedback[0]?.factor).toBe(0.25);
    expect(withFeedback(policy, agent, [{ ...reason[0], hard: true } as (typeof reason)[number]], at(300)).feedback).toEqual([]);
  });

  it("feedback fades back in event time (half-life), and never touches separation of duties", () => {
    const world = new World();
    overturnSoft(world, "a", 0);
    const halfLife = 2_592_000;
    world.handle(mailOnly("later", 100 + halfLife));
    const fresh = new World();
    fresh.handle(mailOnly("fresh", 0));
    const base = outOfScope(fresh.handle(transfer("fresh", 10)));
    expect(outOfScope(world.handle(transfer("later", 110 + halfLife)))).toBeCloseTo(base * 0.75, 2);

    const { world: sod, caseId } = holding();
    expect(sod.handle(verdict(60, caseId, "overturned")).decision?.feedback).toBeUndefined();
    // The self-approval is held again on the next try: hard findings stay whole.
    expect(sod.handle(action(80, "expense.approve", { kind: "write", resource: report, principal: "alice", id: "again" })).commands.map((c) => c.type)).toEqual(
      ["downgrade"],
    );
  });
});
