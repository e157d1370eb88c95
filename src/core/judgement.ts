import type { AgentEvent } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { Signal } from "./scorers/scorer.js";

// An optional second opinion on one call (an LLM asked "does this call serve the user's
// request?"). The core never asks: it says which events are worth asking about
// (needsJudgement), the caller asks whatever judge it was configured with, and the verdict
// comes back into step() as input, so a decision stays a pure function of what it was given
// and the audit record shows the verdict. A judge can only add risk: its text reads the
// same injected content as the agent, so it must not be able to clear a call.

export interface Judgement {
  /** Which judge answered (e.g. the model name). */
  readonly judge: string;
  /** True when the judge thinks the call serves someone other than the principal. */
  readonly drift: boolean;
  /** 0..1, as the judge reported it (clamped). */
  readonly confidence: number;
  readonly reason: string;
}

export function judgeSignals(policy: CompiledPolicy, event: AgentEvent, j: Judgement): Signal[] {
  if (!j.drift || event.type !== "action") return [];
  const confidence = Math.min(1, Math.max(0, Number.isFinite(j.confidence) ? j.confidence : 0));
  const weight = (policy.weights["intent.judge_drift"] as number) * confidence;
  if (weight <= 0) return [];
  // Each verdict is its own evidence: never discounted as a repeat.
  return [
    {
      code: "intent.judge_drift",
      message: `judge ${j.judge}: ${j.reason.slice(0, 200)}`,
      weight,
      capability: event.action.capability,
      repeatKey: `intent.judge_drift|${event.eventId}`,
    },
  ];
}
