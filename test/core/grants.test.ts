import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { World, action, at, grantRequested, sessionStarted, specification } from "../support/given-when-then.js";

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

// Grants beyond the declared list: the goal decides (the same scope inference as for
// actions), and the policy's `grants` block says what is never granted, what waits for a
// reviewer, and per-capability TTL caps.
describe("grant.requested outside the declared capabilities", () => {
  const rules = compilePolicy(
    'version: 1\nscoring:\n  grants: { maxTtlSeconds: 3600 }\ngrants:\n  never: ["secrets.*"]\n  review: ["payments.*"]\n  maxTtlSeconds: { "mail.*": 300 }\n',
  );
  const mailSpec = specification(rules);
  const docs = sessionStarted(
    0,
    { goal: "Send the quarterly report to the finance team by mail and pay the ACME invoice", capabilities: ["docs.read"] },
    { grants: ["docs.read"] },
  );
  const report = { type: "mail", id: "draft-7" };

  it("a request the goal plainly asks for is granted for the resource asked, its TTL capped per capability", () =>
    mailSpec
      .given(docs)
      .when(grantRequested(10, "mail.send", { ttlSeconds: 3600, resource: report }))
      .then(({ types, commands, session }) => {
        expect(types).toEqual(["grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toEqual(["grant.goal_backed"]);
        expect(commands[0]?.expiresAt).toBe(at(310));
        expect(commands[0]?.grant).toEqual({ capability: "mail.send", resourceId: "draft-7" });
        expect(session.jitGrants).toEqual([{ capability: "mail.send", expiresAt: at(310), resourceId: "draft-7" }]);
      }));

  it("an unrelated request is denied: intent.out_of_scope", () =>
    mailSpec
      .given(docs)
      .when(grantRequested(10, "calendar.delete"))
      .then(({ types, commands }) => {
        expect(types).toEqual(["deny_grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toContain("intent.out_of_scope");
      }));

  it("grants.never is never granted, whatever the goal says", () =>
    mailSpec
      .given(sessionStarted(0, { goal: "Rotate the secrets of the payments API", capabilities: ["docs.read"] }))
      .when(grantRequested(10, "secrets.write"))
      .then(({ types, commands }) => {
        expect(types).toEqual(["deny_grant"]);
        expect(commands[0]?.reasons.map((r) => r.code)).toContain("grant.never");
      }));

  it("grants.review waits for a reviewer: a review case holds the request; confirm grants it from the verdict's time, overturn leaves it denied", () => {
    const world = new World(rules);
    world.handle(docs);
    const asked = world.handle(grantRequested(10, "payments.send", { ttlSeconds: 600, resource: { type: "invoice", id: "INV-9" } }));
    expect(asked.commands.map((c) => [c.type, c.review.required, c.reasons[0]?.code])).toEqual([["deny_grant", true, "grant.needs_review"]]);
    const open = world.sessions.get("s1")?.openCase;
    expect(open?.grant).toEqual({ capability: "payments.send", resourceId: "INV-9", ttlSeconds: 600, eventId: asked.commands[0]?.causedBy[0] });
    expect(world.sessions.get("s1")?.jitGrants).toEqual([]);
    const verdict = (t: number, v: "confirmed" | "overturned") => ({
      eventId: `verdict@${t}`,
      type: "review.decided" as const,
      sessionId: "s1",
      time: at(t),
      agent: { id: "agent-1" },
      principal: { id: "alice" },
      review: { caseId: open?.caseId as string, verdict: v, reviewer: "bob" },
    });
    const other = new World(rules);
    other.handle(docs);
    other.handle(grantRequested(10, "payments.send", { ttlSeconds: 600, resource: { type: "invoice", id: "INV-9" } }));
    const overturned = other.handle(verdict(100, "overturned"));
    expect(overturned.commands).toEqual([]);
    expect(overturned.session.jitGrants).toEqual([]);
    expect(overturned.session.openCase).toBeUndefined();

    const confirmed = world.handle(verdict(100, "confirmed"));
    expect(confirmed.commands.map((c) => [c.type, c.expiresAt, c.grant, c.review.status])).toEqual([
      ["grant", at(700), { capability: "payments.send", resourceId: "INV-9" }, "confirmed"],
    ]);
    expect(confirmed.session.jitGrants).toEqual([{ capability: "payments.send", expiresAt: at(700), resourceId: "INV-9" }]);
  });

  it("a standing grant asked for again carries no `grant` field: nothing for an enforcement point to expire", () =>
    mailSpec
      .given(docs)
      .when(grantRequested(10, "docs.read"))
      .then(({ types, commands }) => {
        expect(types).toEqual(["grant"]);
        expect(commands[0]?.grant).toBeUndefined();
      }));
});
