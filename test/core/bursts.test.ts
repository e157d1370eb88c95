import { describe, expect, it } from "vitest";
import { compilePolicy, emptyBaseline } from "../../src/core/index.js";
import type { CompiledPolicy, Signal } from "../../src/core/index.js";
import { baselineScorer } from "../../src/core/scorers/baseline.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import type { Outcome } from "../support/given-when-then.js";
import { World, action, sessionEnded, sessionStarted, specification } from "../support/given-when-then.js";

// baseline.harmful_burst: a burst of egress, delete and admin actions within
// scoring.burst.windowSeconds, above max(minActions, multiple × the agent's learned peak)
// (ransomware-like mass deletion, spraying mail or payments), is a hard decision
// (scoring.burst.decision, step-up at least): never a mere alert, never discounted as a repeat.

const policy = compilePolicy();
const { windowSeconds, minActions, multiple } = policy.burst;
const W_BURST = policy.weights["baseline.harmful_burst"] as number;
/** The same knobs with the learned peak left out (multiple 0): the limit is minActions. */
const peakless = compilePolicy("version: 1\nscoring:\n  burst: { multiple: 0 }\n");

const cleanUp = (session = "s1", t = 0) => sessionStarted(t, { goal: "Clean up the old project files", capabilities: ["files.*", "mail.*"] }, { session });
const remove = (t: number, n: number, session = "s1") => action(t, "files.delete", { session, kind: "delete", args: { path: `/projects/old/${n}.txt` } });
/** `count` deletions, `every` seconds apart from `from`. */
const deletions = (count: number, every: number, from = 1, session = "s1"): AgentEvent[] =>
  Array.from({ length: count }, (_, i) => remove(from + i * every, i, session));
const last = (events: readonly AgentEvent[]): AgentEvent => events[events.length - 1] as AgentEvent;
const burstOf = <S extends Pick<Signal, "code">>(signals: readonly S[] | undefined): S | undefined => signals?.find((s) => s.code === "baseline.harmful_burst");
const burst = (o: Outcome) => burstOf(o.decision.signals);

/**
 * The scorer alone, on the session the engine folds from `events`, for an agent whose
 * learned peak (from earlier sessions) is `peakHarmful`.
 */
function scoreLast(events: readonly AgentEvent[], peakHarmful: number, p: CompiledPolicy = policy): Signal[] {
  const world = new World(p);
  const outs = events.map((e) => world.handle(e));
  const event = last(events);
  const before = outs[outs.length - 2]?.session;
  const after = outs[outs.length - 1]?.session;
  if (before === undefined || after === undefined || event.type !== "action") throw new Error("needs a session and an action");
  // The peak the session measures against is the agent's when the session began.
  const peaksAtStart = { perMinute: 0, harmful: peakHarmful };
  return baselineScorer({
    policy: p,
    before: { ...before, peaksAtStart },
    after: { ...after, peaksAtStart },
    event,
    facts: { kind: event.action.kind ?? "write", tags: [], egress: event.action.kind === "egress", external: false },
    destinations: [],
    namedDestinations: [],
    agentBaseline: { ...emptyBaseline(), peakHarmful },
    principalBaseline: emptyBaseline(),
    sod: { records: () => [] },
  });
}

describe("the burst scorer", () => {
  it(`${minActions} deletions within the window by an agent with no learned peak raise nothing`, () =>
    expect(burstOf(scoreLast([cleanUp(), ...deletions(minActions, 1)], 0))).toBeUndefined());

  it(`the ${minActions + 1}th deletion within the window is a burst, with the policy's decision`, () =>
    expect(burstOf(scoreLast([cleanUp(), ...deletions(minActions + 1, 1)], 0))).toMatchObject({
      weight: W_BURST,
      decision: policy.burst.decision,
      capability: "files.delete",
    }));

  it("the same count spread beyond the window raises nothing (the first has left it exactly a window before the last)", () =>
    expect(burstOf(scoreLast([cleanUp(), ...deletions(minActions + 1, windowSeconds / minActions)], 0))).toBeUndefined());

  it("egress and admin actions count with deletions; reads and writes do not", () => {
    const mixed = [
      cleanUp(),
      ...deletions(3, 1),
      action(4, "mail.send", { kind: "egress", args: { to: "bob@corp.example" } }),
      action(5, "files.share", { kind: "egress" }),
      action(6, "files.set_owner", { kind: "admin" }),
      remove(7, 99),
    ];
    expect(burstOf(scoreLast(mixed, 0))).toBeDefined();
    const quiet = [
      cleanUp(),
      ...Array.from({ length: 3 * minActions }, (_, i) => action(1 + i, "files.rename", { kind: i % 2 === 0 ? "read" : "write" })),
      remove(50, 99),
    ];
    expect(burstOf(scoreLast(quiet, 0))).toBeUndefined();
  });

  it("an agent whose learned peak is high raises nothing up to multiple × peak, and a burst one above", () => {
    const peak = minActions;
    const limit = multiple * peak;
    expect(limit).toBeGreaterThan(minActions);
    expect(burstOf(scoreLast([cleanUp(), ...deletions(limit, 1)], peak))).toBeUndefined();
    expect(burstOf(scoreLast([cleanUp(), ...deletions(limit + 1, 1)], peak))?.message).toContain(`this agent's peak is ${peak}`);
  });
});

describe("through the engine", () => {
  // Regression, fixed: the engine learns peakHarmful from every harmful action that runs, at
  // once, so by the Nth deletion of a burst the agent's "learned peak" is already N-1 and the
  // limit max(minActions, multiple × (N-1)) always exceeds N: with the default multiple the
  // burst can never fire, not even in the agent's first session.
  it(`regression: ${minActions + 1} deletions within the window by a new agent never demand a step-up`, () =>
    specification(policy)
      .given(cleanUp(), ...deletions(minActions, 1))
      .when(remove(minActions + 1, 99))
      .then((o) => {
        expect(burst(o)).toBeDefined();
        expect(o.types).toEqual([policy.burst.decision]);
      }));

  it("regression: an agent with a high peak from an earlier session is never stopped above multiple × peak", () => {
    const peak = minActions - 1;
    const habit = [cleanUp("s0", 0), ...deletions(peak, 1, 1, "s0"), sessionEnded(100, { session: "s0" })];
    const run = deletions(Math.max(minActions, multiple * peak) + 1, 1, 1001);
    specification(policy)
      .given(...habit, cleanUp("s1", 1000), ...run.slice(0, -1))
      .when(last(run))
      .then((o) => expect(burst(o)).toBeDefined());
  });

  it("the agent's peak is learned from what ran", () =>
    specification(policy)
      .given(cleanUp("s0", 0), ...deletions(minActions - 1, 1, 1, "s0"), sessionEnded(100, { session: "s0" }))
      .when(cleanUp("s1", 1000))
      .then(({ world }) => expect(world.baselines.get("agent:agent-1")?.peakHarmful).toBe(minActions - 1)));

  describe("with the learned peak left out (scoring.burst.multiple: 0)", () => {
    const spec = specification(peakless);

    it(`${minActions} deletions raise nothing`, () =>
      spec
        .given(cleanUp(), ...deletions(minActions - 1, 1))
        .when(remove(minActions, 99))
        .then((o) => {
          expect(o.codes).not.toContain("baseline.harmful_burst");
          expect(o.history.flatMap((h) => h.commands)).toEqual([]);
        }));

    it(`the ${minActions + 1}th deletion within the window demands a step-up (a command is issued)`, () =>
      spec
        .given(cleanUp(), ...deletions(minActions, 1))
        .when(remove(minActions + 1, 99))
        .then((o) => {
          expect(burst(o)).toMatchObject({ weight: W_BURST, decision: "step_up" });
          expect(o.types).toEqual(["step_up"]);
          expect(o.commands[0]?.reasons[0]?.code).toBe("baseline.harmful_burst");
          expect(o.decision.verdict?.outcome).toBe("step_up");
        }));

    it("the same count spread beyond the window raises nothing", () => {
      const spread = deletions(minActions + 1, windowSeconds / minActions);
      spec
        .given(cleanUp(), ...spread.slice(0, -1))
        .when(last(spread))
        .then((o) => {
          expect(o.codes).not.toContain("baseline.harmful_burst");
          expect(o.commands).toEqual([]);
        });
    });

    it("the decision is the policy's", () => {
      const strict = compilePolicy("version: 1\nscoring:\n  burst: { multiple: 0, decision: downgrade }\n");
      specification(strict)
        .given(cleanUp(), ...deletions(minActions, 1))
        .when(remove(minActions + 1, 99))
        .then((o) => {
          expect(o.types).toEqual(["downgrade"]);
          expect(o.commands[0]?.capabilities?.removed).toEqual(["files.delete"]);
        });
    });

    it("the finding carries a decision, so a second burst weighs as much as the first and is never counted as a repeat", () =>
      spec
        .given(cleanUp(), ...deletions(minActions + 1, 1))
        .when(remove(minActions + 2, 99))
        .then((o) => {
          const first = burstOf(o.history[o.history.length - 1]?.decision?.signals);
          expect(first).toMatchObject({ weight: W_BURST, decision: "step_up" });
          expect(burst(o)).toEqual(expect.objectContaining({ weight: W_BURST, decision: "step_up" }));
          expect(Object.keys(o.session.findings ?? {}).filter((k) => k.startsWith("baseline.harmful_burst"))).toEqual([]);
        }));

    it("a weight below step-up still holds the call: the decision, not the score, decides", () => {
      const light = compilePolicy("version: 1\nscoring:\n  weights: { baseline.harmful_burst: 0.01 }\n  burst: { multiple: 0 }\n");
      specification(light)
        .given(cleanUp(), ...deletions(minActions, 1))
        .when(remove(minActions + 1, 99))
        .then((o) => {
          expect(o.decision.riskScore).toBeLessThan(light.thresholds.step_up);
          expect(o.types).toEqual(["step_up"]);
        });
    });
  });
});
