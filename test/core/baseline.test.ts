import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { action, sessionEnded, sessionStarted, specification } from "../support/given-when-then.js";

// Behavioural baselines: abstain until mature, then flag new capabilities and destinations.
// Only what ran is learned: a blocked action stays "new".

const policy = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 2 }\n");
const docs = { goal: "Tidy up the project documents", capabilities: ["docs.*", "email.*", "vault.*"] };
// The routine sessions name bob in their goal, so their sends run and are learned; s3's does not.
const routineSession = (session: string, t: number): AgentEvent[] => [
  sessionStarted(t, { ...docs, goal: "Tidy up the project documents and mail them to bob@example.com" }, { session }),
  action(t + 10, "docs.read", { session, kind: "read" }),
  action(t + 20, "email.send", { session, kind: "egress", resource: { external: true }, args: { to: "bob@example.com" } }),
  sessionEnded(t + 30, { session }),
];
const mature = [...routineSession("s1", 0), ...routineSession("s2", 3600)];
const s3 = sessionStarted(7200, docs, { session: "s3" });

describe("baseline scorer", () => {
  it("abstains while immature: within the first session nothing is new", () =>
    specification(policy)
      .given(sessionStarted(0, docs), action(10, "docs.read", { kind: "read" }), action(20, "docs.list", { kind: "read" }))
      .when(action(30, "docs.delete"))
      .then(({ codes }) => expect(codes.filter((c) => c.startsWith("baseline."))).toEqual([])));

  it("a capability neither agent nor principal used is baseline.new_capability", () =>
    specification(policy)
      .given(...mature, s3)
      .when(action(7210, "docs.delete", { session: "s3" }))
      .then(({ codes, decision }) => {
        expect(codes).toContain("baseline.new_capability");
        expect(decision.signals.find((s) => s.code === "baseline.new_capability")?.weight).toBeCloseTo(0.2, 6);
      }));

  it("a learned capability is not new", () =>
    specification(policy)
      .given(...mature, s3)
      .when(action(7210, "docs.read", { session: "s3", kind: "read" }))
      .then(({ codes }) => expect(codes).not.toContain("baseline.new_capability")));

  describe("baseline.new_destination", () => {
    const send = (to: string) => action(7210, "email.send", { session: "s3", kind: "egress", resource: { external: true }, args: { to } });

    it("fires for a recipient the principal never used and the goal does not name", () =>
      specification(policy)
        .given(...mature, s3)
        .when(send("eve@evil.test"))
        .then(({ codes }) => expect(codes).toContain("baseline.new_destination")));

    it("does not fire for a recipient used before", () =>
      specification(policy)
        .given(...mature, s3)
        .when(send("bob@example.com"))
        .then(({ codes }) => expect(codes).not.toContain("baseline.new_destination")));

    it("does not fire for a recipient the goal names", () =>
      specification(policy)
        .given(...mature, sessionStarted(7200, { ...docs, goal: "Send the documents to carol@example.com" }, { session: "s3" }))
        .when(send("carol@example.com"))
        .then(({ codes }) => expect(codes).not.toContain("baseline.new_destination")));
  });

  describe("blocked actions are not learned", () => {
    const young = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 1, minActions: 1 }\n");
    const s1Start = sessionStarted(0, docs, { session: "s1" });
    const s1Read = action(10, "docs.read", { session: "s1", kind: "read" });
    const s2 = sessionStarted(3600, docs, { session: "s2" });
    const s2Export = action(3610, "docs.export", { session: "s2", kind: "read" });

    it("an export that ran in session 1 is not new in session 2", () =>
      specification(young)
        .given(s1Start, s1Read, action(20, "docs.export", { session: "s1", kind: "read" }), s2)
        .when(s2Export)
        .then(({ codes }) => expect(codes).not.toContain("baseline.new_capability")));

    it("an export Vigil blocked in session 1 (revoked session) is still new in session 2", () =>
      specification(young)
        .given(
          s1Start,
          s1Read,
          action(15, "vault.read", { session: "s1", kind: "read", resource: { id: "v", sensitivity: ["secret"] } }),
          action(20, "docs.export", { session: "s1", kind: "read" }),
          s2,
        )
        .when(s2Export)
        .then(({ codes, history }) => {
          expect(history[3]?.decision?.verdict?.outcome).toBe("deny");
          expect(codes).toContain("baseline.new_capability");
        }));

    it("an export the enforcement point denied (outcome denied) is still new in session 2", () =>
      specification(young)
        .given(s1Start, s1Read, action(20, "docs.export", { session: "s1", kind: "read", outcome: "denied" }), s2)
        .when(s2Export)
        .then(({ codes }) => expect(codes).toContain("baseline.new_capability")));
  });
});

describe("a new task brings its new reads together (issue 27, scoring.baseline.newToolsTogether)", () => {
  // An honest agent on a task the principal never did (another application, another model's
  // way of exploring) reads with several tools for the first time in one session: one piece
  // of news, not four independent ones. With the knob on, each further first read counts
  // factors.repeat as much. On by default (docs/detection.md: it spares honest first reads on a
  // new application at the cost of one catch of the oracle replay).
  const together = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 2, newToolsTogether: true }\n");
  const apart = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 2, newToolsTogether: false }\n");
  const reads = ["docs.search", "docs.outline", "docs.history", "docs.stats"].map((c, i) => action(7210 + 10 * i, c, { session: "s3", kind: "read" }));
  type Seen = { decision?: { signals: readonly { code: string; weight: number }[] } };
  const newWeights = (o: { history: readonly Seen[]; decision: NonNullable<Seen["decision"]> }) =>
    [...o.history.slice(-3), o].map((h) => h.decision?.signals.find((s) => s.code === "baseline.new_capability")?.weight);

  it("given newToolsTogether, when a session reads with four tools it never used, then the first counts fully and the others as repeats, short of a step-up", () =>
    specification(together)
      .given(...mature, s3, ...reads.slice(0, 3))
      .when(reads[3] as AgentEvent)
      .then((o) => {
        const [a, b, c, d] = newWeights(o);
        expect(a).toBeCloseTo(0.2, 6);
        expect(b).toBeCloseTo(0.1, 6);
        expect(c).toBeCloseTo(0.05, 6);
        expect(d).toBeCloseTo(0.025, 6);
        expect(o.decision.riskScore).toBeLessThan(together.thresholds.step_up);
      }));

  it("given newToolsTogether, a first change after new reads is news of its own", () =>
    specification(together)
      .given(...mature, s3, ...reads.slice(0, 2))
      .when(action(7300, "docs.delete", { session: "s3" }))
      .then((o) => expect(o.decision.signals.find((s) => s.code === "baseline.new_capability")?.weight).toBeCloseTo(0.2, 6)));

  it("with newToolsTogether off, when the same session reads with them, then each counts fully", () =>
    specification(apart)
      .given(...mature, s3, ...reads.slice(0, 3))
      .when(reads[3] as AgentEvent)
      .then((o) => {
        for (const w of newWeights(o)) expect(w).toBeCloseTo(0.2, 6);
        expect(o.decision.riskScore).toBeGreaterThanOrEqual(apart.thresholds.step_up);
      }));

  it("the shipped policy brings them together", () => expect(policy.baseline.newToolsTogether).toBe(true));
});

describe("a first read the goal relates to is the new task's (issue 27, scoring.factors.goalNewTool)", () => {
  // A principal whose sessions so far only read documents starts a task about flights: its
  // first flight search is new to the baseline, and the goal says why. A first read the goal
  // does not relate to is news as before; so is a first change, whatever the goal says.
  const catalog = `version: 1
tools:
  - { capability: docs.read, description: Read a document, kind: read, risk: low }
  - { capability: flights.search, description: Search the flights between two airports, kind: read, risk: low }
  - { capability: weather.forecast, description: Get the weather forecast of a town, kind: read, risk: low }
  - { capability: flights.book, description: Book a seat on a flight, kind: write, risk: medium }
scoring:
  baseline: { minSessions: 2, minActions: 2 }
`;
  const shipped = compilePolicy(catalog);
  const off = compilePolicy(`${catalog}  factors: { goalNewTool: 1 }\n`);
  const routine = (session: string, t: number): AgentEvent[] => [
    sessionStarted(t, { goal: "Summarise the project documents" }, { session }),
    action(t + 10, "docs.read", { session }),
    action(t + 20, "docs.read", { session, args: { id: "2" } }),
    sessionEnded(t + 30, { session }),
  ];
  const history = [...routine("s1", 0), ...routine("s2", 3600)];
  const s3 = sessionStarted(7200, { goal: "Which flights from Lisbon to Oslo leave on Friday?" }, { session: "s3" });
  const newWeight = (o: { decision: { signals: readonly { code: string; weight: number }[] } }) =>
    o.decision.signals.find((s) => s.code === "baseline.new_capability")?.weight;

  it("given a goal about flights, when the session first searches flights, then the novelty counts half", () =>
    specification(shipped)
      .given(...history, s3)
      .when(action(7210, "flights.search", { session: "s3", args: { from: "LIS", to: "OSL" } }))
      .then((o) => expect(newWeight(o)).toBeCloseTo(0.1, 6)));

  it("given scoring.factors.goalNewTool 1, when the session first searches flights, then it counts fully", () =>
    specification(off)
      .given(...history, s3)
      .when(action(7210, "flights.search", { session: "s3", args: { from: "LIS", to: "OSL" } }))
      .then((o) => expect(newWeight(o)).toBeCloseTo(0.2, 6)));

  it("given the same goal, a first read it does not relate to counts fully", () =>
    specification(shipped)
      .given(...history, s3)
      .when(action(7210, "weather.forecast", { session: "s3", args: { town: "Oslo" } }))
      .then((o) => expect(newWeight(o)).toBeCloseTo(0.2, 6)));

  it("given the same goal, a first change counts fully", () =>
    specification(shipped)
      .given(...history, s3)
      .when(action(7210, "flights.book", { session: "s3", args: { flight: "TP123" } }))
      .then((o) => expect(newWeight(o)).toBeCloseTo(0.2, 6)));
});
