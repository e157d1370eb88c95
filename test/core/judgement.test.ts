import { describe, expect, it } from "vitest";
import { compilePolicy, emptyBaseline, needsJudgement, step } from "../../src/core/index.js";
import type { Judgement, StepInput } from "../../src/core/index.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { action, sessionStarted } from "../support/given-when-then.js";

// The optional judge's verdict enters a decision as input (pure), may only add risk, and is
// only asked for calls in the uncertain band [scoring.judge.askFrom, thresholds.step_up).

const policy = compilePolicy(`version: 1
tools:
  - { capability: notes.read, description: Read the user's notes, kind: read, risk: low }
  - { capability: calendar.create, description: Create a calendar event, kind: write, risk: medium }
`);
const goal = { goal: "Summarise my notes from yesterday" };

function world(events: AgentEvent[]): StepInput {
  let input: StepInput = { session: undefined, agentBaseline: emptyBaseline(), principalBaseline: emptyBaseline(), sod: { records: () => [] } };
  for (const e of events) {
    const out = step(policy, input, e);
    input = { ...input, session: out.session, agentBaseline: out.agentBaseline, principalBaseline: out.principalBaseline };
  }
  return input;
}

const drift: Judgement = { judge: "test-model", drift: true, confidence: 0.9, reason: "the user asked for a summary, not a meeting" };

describe("judgement", () => {
  const input = world([sessionStarted(0, goal)]);
  const unrelatedWrite = action(10, "calendar.create", { args: { title: "sync" } });

  it("is wanted for a call whose own risk lands in the uncertain band", () => {
    const alone = step(policy, input, unrelatedWrite).decision?.riskScore ?? 0;
    expect(alone).toBeGreaterThanOrEqual(policy.judgeAskFrom);
    expect(alone).toBeLessThan(policy.thresholds.step_up);
    expect(needsJudgement(policy, input, unrelatedWrite)).toBe(true);
  });

  it("is not wanted for a call the goal explains (risk below the band)", () => expect(needsJudgement(policy, input, action(10, "notes.read"))).toBe(false));

  it("is not wanted for events that are not actions", () => expect(needsJudgement(policy, input, sessionStarted(5, goal, { session: "s2" }))).toBe(false));

  it("a drift verdict adds intent.judge_drift weighted by its confidence, and the decision records it", () => {
    const out = step(policy, { ...input, judgement: drift }, unrelatedWrite);
    const signal = out.decision?.signals.find((s) => s.code === "intent.judge_drift");
    expect(signal?.weight).toBeCloseTo(0.6 * 0.9, 6);
    expect(signal?.message).toContain("test-model");
    expect(out.decision?.judgement).toEqual(drift);
    // Alone the call was allowed; with the verdict it is held.
    expect(step(policy, input, unrelatedWrite).decision?.verdict?.outcome).toBe("allow");
    expect(out.decision?.verdict?.outcome).not.toBe("allow");
  });

  it("an aligned verdict adds nothing: the judge cannot clear a call", () => {
    const without = step(policy, input, unrelatedWrite);
    const cleared = step(policy, { ...input, judgement: { ...drift, drift: false, confidence: 1 } }, unrelatedWrite);
    expect(cleared.decision?.riskScore).toBe(without.decision?.riskScore);
    expect(cleared.decision?.signals.map((s) => s.code)).toEqual(without.decision?.signals.map((s) => s.code));
  });

  it("a confidence out of range is clamped, a non-number counts as zero", () => {
    const high = step(policy, { ...input, judgement: { ...drift, confidence: 7 } }, unrelatedWrite);
    expect(high.decision?.signals.find((s) => s.code === "intent.judge_drift")?.weight).toBeCloseTo(0.6, 6);
    const nan = step(policy, { ...input, judgement: { ...drift, confidence: Number.NaN } }, unrelatedWrite);
    expect(nan.decision?.signals.map((s) => s.code)).not.toContain("intent.judge_drift");
  });

  it("asking learns nothing: needsJudgement leaves the baselines as they were", () => {
    const before = JSON.stringify([input.agentBaseline, input.principalBaseline]);
    needsJudgement(policy, input, unrelatedWrite);
    expect(JSON.stringify([input.agentBaseline, input.principalBaseline])).toBe(before);
  });

  it("the band starts where the policy says", () => {
    const strict = compilePolicy(`version: 1
tools:
  - { capability: calendar.create, description: Create a calendar event, kind: write, risk: medium }
scoring:
  judge: { askFrom: 0.45 }
`);
    expect(strict.judgeAskFrom).toBe(0.45);
    expect(needsJudgement(strict, input, unrelatedWrite)).toBe(false);
  });
});
