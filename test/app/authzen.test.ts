import { describe, expect, it } from "vitest";
import type { AgentEvent, Command, Verdict } from "../../src/protocol/index.js";
import { AuthzenInputError, createAuthzen } from "../../src/app/authzen.js";
import type { AuthzenPorts } from "../../src/app/authzen.js";

// The AuthZEN door's decision side (app/authzen.ts) over fake ports: what it publishes for
// an evaluation, how it answers from the enforcement view, the batch semantics, and the
// errors that name the field before anything is published.

const restricting: Command = {
  commandId: "c1",
  type: "downgrade",
  sessionId: "s1",
  agentId: "assistant-7",
  principalId: "alice",
  time: "2026-12-06T10:00:00.000Z",
  causedBy: ["e"],
  riskScore: 0.8,
  reasons: [{ code: "intent.destination_not_in_goal", message: "the recipient appears nowhere in the goal" }],
  capabilities: { removed: ["payments.send"], remaining: [] },
  review: { required: false },
  caep: { eventType: "x", subject: { format: "opaque", id: "s1" }, event_timestamp: 0, reason_admin: { en: "x" } },
};

function harness(over: Partial<AuthzenPorts> = {}, verdicts: Record<string, Verdict> = {}) {
  const published: AgentEvent[] = [];
  let id = 0;
  const ports: AuthzenPorts = {
    publish: async (events) => {
      published.push(...events);
    },
    unauthenticated: () => undefined,
    decided: async () => true,
    check: (_s, capability) => verdicts[capability] ?? { outcome: "allow" },
    lastCommand: async () => (Object.keys(verdicts).length > 0 ? restricting : undefined),
    known: () => false,
    now: () => Date.parse("2026-12-06T10:00:00.000Z"),
    newId: () => `ev-${++id}`,
    ...over,
  };
  return { published, door: createAuthzen({ holdMs: 1000, failMode: "closed" }, ports) };
}

const request = (over: Record<string, unknown> = {}) => ({
  subject: { type: "agent", id: "assistant-7", properties: { principal: "alice" } },
  action: { name: "payments.send", properties: { tool: "pay", kind: "write", args: { to: "US13", amount: 10 } } },
  resource: { type: "account", id: "acct-1", properties: { classification: "confidential" } },
  context: { session_id: "s1", goal: "Pay the December bill" },
  ...over,
});

describe("AuthZEN evaluation", () => {
  it("starts an unknown session with its goal, publishes the attempted action, and permits what Vigil allows", async () => {
    const { door, published } = harness();
    const d = await door.evaluation(request({ action: { name: "bills.read" } }), "pep");
    expect(d).toEqual({ decision: true, context: { id: "ev-1", outcome: "allow" } });
    expect(published.map((e) => e.type)).toEqual(["session.started", "action"]);
    expect(published[0]).toMatchObject({
      sessionId: "s1",
      agent: { id: "assistant-7" },
      principal: { id: "alice" },
      intent: { goal: "Pay the December bill" },
    });
    expect(published[1]).toMatchObject({
      eventId: "ev-1",
      action: { capability: "bills.read", tool: "bills.read" },
      resource: { type: "account", id: "acct-1", classification: "confidential" },
    });
    // A frozen clock still gives strictly increasing times within the session.
    expect(Date.parse(published[1]?.time ?? "")).toBeGreaterThan(Date.parse(published[0]?.time ?? ""));
  });

  it("denies with the command's reason codes and a reason for the admin and the user", async () => {
    const { door, published } = harness({}, { "payments.send": { outcome: "deny", reason: "capability payments.send removed" } });
    const d = await door.evaluation(request(), "pep");
    expect(d.decision).toBe(false);
    expect(d.context).toMatchObject({
      outcome: "deny",
      command: "downgrade",
      reason_codes: ["intent.destination_not_in_goal"],
      reason_admin: { en: expect.stringContaining("the recipient appears nowhere in the goal") },
      reason_user: { en: expect.any(String) },
    });
    expect(published.at(-1)).toMatchObject({
      type: "action",
      action: { capability: "payments.send", tool: "pay", kind: "write" },
      args: { to: "US13", amount: 10 },
    });
  });

  it("tells the user why in the command's own sentence; without one, or citing a command that restricts nothing, a plain reason", async () => {
    const explanation =
      "Agent assistant-7 tried payments.send, sending to us13, which neither the goal nor an earlier call of this session names; the goal asked: “Pay the December bill”.";
    const deny = { "payments.send": { outcome: "deny", reason: "capability payments.send removed" } } as const;
    const told = harness({ lastCommand: async () => ({ ...restricting, explanation }) }, deny);
    expect((await told.door.evaluation(request(), "pep")).context.reason_user).toEqual({ en: `Vigil held this action. ${explanation}` });
    const asked = harness(
      { lastCommand: async () => ({ ...restricting, type: "step_up", explanation }) },
      { "payments.send": { outcome: "step_up", reason: "step-up authentication required" } },
    );
    expect((await asked.door.evaluation(request(), "pep")).context.reason_user).toEqual({
      en: `This action needs the person's confirmation first. ${explanation}`,
    });
    const plain = harness({}, deny);
    expect((await plain.door.evaluation(request(), "pep")).context.reason_user).toEqual({
      en: "Vigil held this action: it does not fit what the session was asked to do.",
    });
    const granted = harness({ lastCommand: async () => ({ ...restricting, type: "grant", explanation: "Agent assistant-7 asked for x and got it." }) }, deny);
    expect((await granted.door.evaluation(request(), "pep")).context.reason_user?.en).not.toMatch(/asked for x/);
  });

  it("answers step_up as not permitted, naming the step-up", async () => {
    const { door } = harness({}, { "payments.send": { outcome: "step_up", reason: "step-up authentication required" } });
    expect((await door.evaluation(request(), "pep")).context.outcome).toBe("step_up");
  });

  it("holds until decided: closed refuses, open permits, when no decision comes", async () => {
    const closed = harness({ decided: async () => false });
    expect(await closed.door.evaluation(request(), "pep")).toMatchObject({ decision: false, context: { outcome: "undecided" } });
    const ports: AuthzenPorts = {
      publish: async () => {},
      unauthenticated: () => undefined,
      decided: async () => false,
      check: () => ({ outcome: "deny", reason: "never asked" }),
      lastCommand: async () => undefined,
      known: () => true,
      now: () => 0,
      newId: () => "x",
    };
    expect(await createAuthzen({ holdMs: 5, failMode: "open" }, ports).evaluation(request(), "pep")).toMatchObject({
      decision: true,
      context: { outcome: "undecided" },
    });
  });

  it("does not start a session Vigil knows; a new goal is an intent.updated", async () => {
    const { door, published } = harness({ known: () => true });
    await door.evaluation(request({ context: { session_id: "s1" } }), "pep");
    await door.evaluation(request({ context: { session_id: "s1", goal: "Pay the bill and file the receipt" } }), "pep");
    await door.evaluation(request({ context: { session_id: "s1", goal: "Pay the bill and file the receipt" } }), "pep");
    expect(published.map((e) => e.type)).toEqual(["action", "intent.updated", "action", "action"]);
  });

  it("refuses bad requests naming the field, before anything is published", async () => {
    const { door, published } = harness();
    const refused = async (body: unknown) => {
      try {
        await door.evaluation(body, "pep");
      } catch (e) {
        expect(e).toBeInstanceOf(AuthzenInputError);
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(await refused(request({ subject: { type: "agent", id: "a" } }))).toMatch(/^subject\.properties\.principal: required/);
    expect(await refused(request({ subject: { type: "user", id: "alice" } }))).toMatch(/^subject\.properties\.agent: required/);
    expect(await refused(request({ context: { goal: "x" } }))).toMatch(/^context\.session_id: required/);
    expect(await refused(request({ action: { name: "x", properties: { kind: "explode" } } }))).toMatch(/^action\.properties\.kind: /);
    expect(await refused(request({ resource: { type: "doc" } }))).toMatch(/^resource\.id: /);
    expect(await refused("not an object")).toMatch(/^body: /);
    expect(published).toEqual([]);
  });
});

describe("AuthZEN evaluations (batch)", () => {
  const batch = (semantic?: string) => ({
    subject: { type: "user", id: "alice", properties: { agent: "assistant-7" } },
    resource: { type: "account", id: "acct-1" },
    context: { session_id: "s2", goal: "Pay the December bill" },
    evaluations: [{ action: { name: "bills.read" } }, { action: { name: "payments.send" } }, { action: { name: "bills.read" } }],
    ...(semantic ? { options: { evaluations_semantic: semantic } } : {}),
  });

  it("takes top-level defaults into each entry and evaluates all by default", async () => {
    const { door, published } = harness({}, { "payments.send": { outcome: "deny", reason: "removed" } });
    const r = (await door.evaluations(batch(), "pep")) as { evaluations: { decision: boolean }[] };
    expect(r.evaluations.map((d) => d.decision)).toEqual([true, false, true]);
    expect(published.filter((e) => e.type === "action").map((e) => (e as { principal: { id: string } }).principal.id)).toEqual(["alice", "alice", "alice"]);
  });

  it("stops at the first deny or the first permit when asked", async () => {
    const deny = harness({}, { "payments.send": { outcome: "deny", reason: "removed" } });
    expect(((await deny.door.evaluations(batch("deny_on_first_deny"), "pep")) as { evaluations: unknown[] }).evaluations).toHaveLength(2);
    const permit = harness();
    expect(((await permit.door.evaluations(batch("permit_on_first_permit"), "pep")) as { evaluations: unknown[] }).evaluations).toHaveLength(1);
  });

  it("without evaluations it is one evaluation; a bad entry publishes nothing and is named", async () => {
    const one = harness();
    expect(await one.door.evaluations(request(), "pep")).toMatchObject({ decision: true });
    const bad = harness();
    const body = { ...batch(), evaluations: [{ action: { name: "bills.read" } }, { action: { name: "" } }] };
    await expect(bad.door.evaluations(body, "pep")).rejects.toThrow(/^evaluations\[1\]\.action\.name: /);
    expect(bad.published).toEqual([]);
  });

  it("refuses a caller the policy's authenticity rule does not accept with 403, publishing nothing", async () => {
    const { door, published } = harness({ unauthenticated: (e, caller) => (e.type === "action" ? `${caller} may not speak for ${e.sessionId}` : undefined) });
    await expect(door.evaluation(request(), "mallory")).rejects.toMatchObject({ status: 403, message: "mallory may not speak for s1" });
    expect(published).toEqual([]);
  });

  it("checks every entry before publishing any: a bad kind in the last entry publishes nothing", async () => {
    const { door, published } = harness();
    const body = { ...batch(), evaluations: [{ action: { name: "bills.read" } }, { action: { name: "payments.send", properties: { kind: "explode" } } }] };
    await expect(door.evaluations(body, "pep")).rejects.toThrow(/^evaluations\[1\]\.action\.properties\.kind: /);
    expect(published).toEqual([]);
  });

  it("starts a session under an id derived from it (a repeated start is a duplicate), and refuses a goal the contract cannot carry", async () => {
    const a = harness();
    const b = harness();
    await a.door.evaluation(request(), "pep");
    await b.door.evaluation(request(), "pep");
    expect(a.published[0]?.type).toBe("session.started");
    expect(a.published[0]?.eventId).toBe(b.published[0]?.eventId);
    const c = harness();
    await expect(c.door.evaluation(request({ context: { session_id: "s9", goal: "x".repeat(20_000) } }), "pep")).rejects.toThrow(/^context\.goal: /);
    expect(c.published).toEqual([]);
  });

  it("publishes the PDP metadata for its base URL", () => {
    expect(harness().door.configuration("https://vigil.example")).toEqual({
      policy_decision_point: "https://vigil.example",
      access_evaluation_endpoint: "https://vigil.example/access/v1/evaluation",
      access_evaluations_endpoint: "https://vigil.example/access/v1/evaluations",
    });
  });
});
