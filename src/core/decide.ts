import type { AgentEvent, Command, CommandType, Decision, Reason } from "../protocol/index.js";
import { toCaep } from "../protocol/index.js";
import type { Enforcement } from "../protocol/enforcement.js";
import { deriveId } from "./ids.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { Signal } from "./scorers/scorer.js";
import type { SessionState } from "./session-state.js";
import { toMillis } from "./time.js";

// Risk aggregation and the enforcement state machine. Risk decays with a half-life in
// event time and combines new signals as a noisy-OR: 1 - (1 - decayed) * Π(1 - w).
// A command is issued only when the enforcement state changes (revoked, step-up demanded,
// more capabilities removed), never once per risky event.

const LEVEL: Readonly<Record<Decision, number>> = { alert: 0, step_up: 1, downgrade: 2, revoke: 3 };

export function decayedRisk(policy: CompiledPolicy, risk: SessionState["risk"], time: string): number {
  if (risk.at === undefined || risk.score === 0) return risk.score;
  const dt = Math.max(0, toMillis(time) - toMillis(risk.at)) / 1000;
  return risk.score * Math.pow(0.5, dt / policy.halfLifeSeconds);
}

export function combine(decayed: number, signals: readonly Signal[]): number {
  let keep = 1 - decayed;
  for (const s of signals) keep *= 1 - Math.min(1, Math.max(0, s.weight));
  return Math.round((1 - keep) * 1e6) / 1e6;
}

function target(policy: CompiledPolicy, session: SessionState, score: number, signals: readonly Signal[]): Decision {
  let level: Decision = "alert";
  const t = policy.thresholds;
  if (score >= t.revoke) level = "revoke";
  else if (score >= t.downgrade) level = "downgrade";
  else if (score >= t.step_up) level = "step_up";
  let imposed: Decision = "alert";
  for (const s of signals) if (s.decision && LEVEL[s.decision] > LEVEL[imposed]) imposed = s.decision;
  if (LEVEL[level] > LEVEL[imposed] && LEVEL[level] > LEVEL.step_up && policy.ladder.enabled && !strongEvidence(policy, session, signals)) {
    // The ladder: a false block should be a question, not a revocation. Without strong
    // evidence the first response asks, and later ones stop short of revoking.
    const e = session.enforcement;
    const asked = e.stepUpRequired || e.removed.length > 0 || e.deniedOn.length > 0;
    level = asked ? "downgrade" : "step_up";
  }
  return LEVEL[imposed] > LEVEL[level] ? imposed : level;
}

/**
 * Evidence that may revoke (scoring.ladder): a finding of a strong code at its full base
 * weight (a value only an order named, used where it leaves: not a read, not a mention),
 * a step-up the person declined followed by a call with a finding that could hold it alone,
 * or a hold a reviewer confirmed. Findings with a decision
 * of their own (rules, separation of duties, sequences, bursts) impose it anyway.
 */
function strongEvidence(policy: CompiledPolicy, session: SessionState, signals: readonly Signal[]): boolean {
  if (session.enforcement.review?.status === "confirmed") return true;
  // After a declined step-up the session must go on raising risk: with a finding of this call
  // that could hold it alone (ladder.declineNeedsFinding), not the risk left from before or a
  // weak first use — an honest agent told "no" tries another way to do the user's task.
  if ((session.stepUps?.declined ?? 0) > 0 && (!policy.ladder.declineNeedsFinding || signals.some((s) => s.weight >= policy.thresholds.step_up))) return true;
  return signals.some((s) => policy.ladder.strong.has(s.code) && s.weight >= (policy.weights[s.code] ?? Infinity));
}

export function reasonsOf(signals: readonly Signal[], fallback: string): Reason[] {
  const sorted = [...signals].sort((a, b) => (b.decision ? LEVEL[b.decision] + 1 : 0) - (a.decision ? LEVEL[a.decision] + 1 : 0) || b.weight - a.weight);
  const reasons = sorted.slice(0, 8).map((s) => ({ code: s.code, message: s.message, weight: Math.round(s.weight * 1000) / 1000 }));
  return reasons.length > 0 ? reasons : [{ code: "rule.cumulative_risk", message: fallback }];
}

export interface CommandDraft {
  readonly type: CommandType;
  readonly removed?: readonly string[];
  readonly remaining?: readonly string[];
  readonly expiresAt?: string;
  /** A capability granted just in time that the session did not hold (grant commands). */
  readonly grant?: { readonly capability: string; readonly resourceId?: string };
  readonly review: boolean;
  /** The review status the command reports when it is a person's verdict (review.ts); else pending when `review`. */
  readonly reviewStatus?: "confirmed" | "overturned";
  readonly reasons: readonly Reason[];
  readonly causedBy: readonly string[];
}

export function buildCommand(session: SessionState, event: AgentEvent, riskScore: number, d: CommandDraft): Command {
  const reasonText = d.reasons.map((r) => r.code).join(", ");
  return {
    commandId: deriveId("cmd", [session.sessionId, event.eventId, d.type, (d.removed ?? []).join(",")]),
    type: d.type,
    sessionId: session.sessionId,
    agentId: session.agentId,
    principalId: session.principalId,
    time: event.time,
    causedBy: [...d.causedBy],
    riskScore,
    reasons: [...d.reasons],
    ...(d.removed !== undefined || d.remaining !== undefined ? { capabilities: { removed: [...(d.removed ?? [])], remaining: [...(d.remaining ?? [])] } } : {}),
    ...(d.expiresAt !== undefined ? { expiresAt: d.expiresAt } : {}),
    ...(d.grant !== undefined ? { grant: { ...d.grant } } : {}),
    review: d.review ? { required: true, status: "pending" } : d.reviewStatus ? { required: false, status: d.reviewStatus } : { required: false },
    caep: toCaep({
      type: d.type,
      sessionId: session.sessionId,
      eventTimestampSeconds: Math.floor(toMillis(event.time) / 1000),
      reason: reasonText,
      ...(d.remaining !== undefined ? { remaining: d.remaining } : {}),
    }),
  };
}

export interface Transition {
  readonly enforcement: Enforcement;
  readonly draft?: CommandDraft;
  readonly level: Decision;
}

export const remainingOf = (session: SessionState, removed: readonly string[]): string[] =>
  [...new Set([...session.grants, ...session.jitGrants.map((g) => g.capability)])].filter((c) => !removed.includes(c));

/** The next enforcement state for a scored event, and the command that announces it (if it changed). */
export function transition(policy: CompiledPolicy, session: SessionState, event: AgentEvent, score: number, signals: readonly Signal[]): Transition {
  const e = session.enforcement;
  const level = target(policy, session, score, signals);
  const reasons = reasonsOf(signals, `cumulative risk ${score} crossed a threshold`);
  const causedBy = [...new Set([...signals.flatMap((s) => s.evidence ?? []), event.eventId])];
  const wantsReview = (lvl: Decision) => signals.some((s) => s.review === true && s.decision === lvl) || signals.every((s) => s.decision === undefined);
  if (e.revoked || level === "alert") return { enforcement: e, level };
  if (level === "revoke") {
    const review = wantsReview("revoke");
    return {
      level,
      enforcement: { ...e, revoked: true, review: review ? { required: true, status: "pending" } : e.review },
      draft: { type: "revoke", review, reasons, causedBy },
    };
  }
  if (level === "downgrade") {
    const implicated = [
      ...new Set(signals.filter((s) => s.capability !== undefined && (s.weight > 0 || s.decision === "downgrade")).map((s) => s.capability as string)),
    ];
    const newlyRemoved = implicated.filter((c) => !e.removed.includes(c));
    if (newlyRemoved.length > 0) {
      const removed = [...e.removed, ...newlyRemoved];
      const deniedOn = [
        ...e.deniedOn,
        ...signals
          .filter((s) => s.resourceId !== undefined && s.capability !== undefined)
          .map((s) => ({ capability: s.capability as string, resourceId: s.resourceId as string })),
      ];
      const review = wantsReview("downgrade");
      return {
        level,
        enforcement: { ...e, removed, deniedOn, review: review ? { required: true, status: "pending" } : e.review },
        draft: { type: "downgrade", removed: newlyRemoved, remaining: remainingOf(session, removed), review, reasons, causedBy },
      };
    }
    if (implicated.length > 0) return { enforcement: e, level };
    // Nothing specific to take away: demand a step-up instead.
  }
  if (!e.stepUpRequired) {
    return { level: "step_up", enforcement: { ...e, stepUpRequired: true }, draft: { type: "step_up", review: false, reasons, causedBy } };
  }
  return { enforcement: e, level };
}
