import type { Command, ReviewDecidedEvent } from "../protocol/index.js";
import { check, initialEnforcement, isRestricted } from "../protocol/enforcement.js";
import { newGrant, withGrant } from "./grants.js";
import type { CommandDraft } from "./decide.js";
import { remainingOf } from "./decide.js";
import { deriveId } from "./ids.js";
import type { Signal } from "./scorers/scorer.js";
import type { CaseReason, OpenCase, SessionState } from "./session-state.js";
import type { Baseline } from "./baseline.js";
import { MAX_FEEDBACK } from "./baseline.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import { toMillis } from "./time.js";

// Review cases and verdicts (pure). A command that holds a session for a person opens the
// session's case; later holds of the same session join it. A verdict (`review.decided`,
// written by the review API or CLI, signed, carried into the session's events) closes it:
//   - overturned: every restriction is lifted (a `restore` with the session's capabilities,
//     CAEP token-claims-change) and the session's risk starts again from zero;
//   - confirmed: the hold stays, and is no longer pending;
//   - confirmed with revoke: the session is revoked.
// A case that holds a just-in-time grant request (policy grants.review) grants it on confirm;
// overturned, the request stays denied. A verdict for a case the session does not hold
// (already decided, or another case) changes nothing. Verdicts are events, so replay, a crash and a rebuild decide them the same.

/** Reasons a case remembers (the hold's findings, for the reviewer and for feedback). */
export const MAX_CASE_REASONS = 16;

/** The case a hold opens (the session's first pending hold) or joins (its open case). */
export function caseAfterHold(session: SessionState, hold: Command, signals: readonly Signal[]): OpenCase {
  const open = session.openCase;
  const reasons: CaseReason[] = [...(open?.reasons ?? [])];
  const known = new Set(reasons.map((r) => `${r.code}|${r.capability ?? ""}`));
  for (const s of signals) {
    const key = `${s.code}|${s.capability ?? ""}`;
    if (known.has(key) || reasons.length >= MAX_CASE_REASONS) continue;
    known.add(key);
    reasons.push({ code: s.code, ...(s.capability ? { capability: s.capability } : {}), hard: s.decision !== undefined || s.code.startsWith("sod.") });
  }
  // The hold's own reasons that no finding carries (a policy's grants.review, the cumulative-risk fallback).
  for (const r of hold.reasons) {
    if (reasons.length >= MAX_CASE_REASONS || reasons.some((x) => x.code === r.code)) continue;
    reasons.push({ code: r.code, hard: true });
  }
  return open ? { ...open, reasons } : { caseId: deriveId("case", [session.sessionId, hold.commandId]), openedAt: hold.time, reasons };
}

export interface ReviewOutcome {
  readonly session: SessionState;
  readonly draft?: CommandDraft;
  /** `overturned`, `confirmed`, `revoked`, or `ignored` (no such open case). */
  readonly level: string;
  /** The case's soft findings a person judged wrong (for feedback): set only when overturned. */
  readonly overturned?: readonly CaseReason[];
}

export function decideReview(session: SessionState, event: ReviewDecidedEvent): ReviewOutcome {
  const open = session.openCase;
  const { caseId, verdict, revoke, reviewer, note } = event.review;
  if (open === undefined || open.caseId !== caseId) return { session, level: "ignored" };
  const { openCase: _closed, ...rest } = session;
  const by = `${reviewer}${note ? `: ${note}` : ""}`;
  if (verdict === "overturned" && open.grant && !isRestricted(session.enforcement)) {
    // Only a grant request waited: overturned, it stays denied; nothing to restore.
    return { session: { ...rest, enforcement: { ...session.enforcement, review: { required: false, status: "overturned" } } }, level: "overturned" };
  }
  if (verdict === "overturned") {
    const restored: SessionState = {
      ...rest,
      enforcement: { ...initialEnforcement, review: { required: false, status: "overturned" } },
      risk: { score: 0, at: event.time },
    };
    return {
      session: restored,
      level: "overturned",
      overturned: open.reasons.filter((r) => !r.hard),
      draft: {
        type: "restore",
        removed: [],
        remaining: remainingOf(restored, []),
        review: false,
        reviewStatus: "overturned",
        reasons: [{ code: "review.overturned", message: `case ${caseId} overturned by ${by}` }],
        causedBy: [event.eventId],
      },
    };
  }
  const enforcement = { ...session.enforcement, review: { required: false, status: "confirmed" as const } };
  const pending = open.grant;
  if (pending && !revoke && check(session.enforcement, pending.capability, pending.resourceId).outcome === "allow") {
    // A just-in-time grant that waited for a person: granted from the verdict's time.
    const granted = withGrant({ ...rest, enforcement }, pending.capability, pending.resourceId, event.time, pending.ttlSeconds);
    const what = `${pending.capability}${pending.resourceId !== undefined ? ` on ${pending.resourceId}` : ""}`;
    return {
      session: granted.session,
      level: "granted",
      draft: {
        type: "grant",
        removed: [],
        remaining: remainingOf(granted.session, granted.session.enforcement.removed),
        expiresAt: granted.expiresAt,
        ...newGrant(session, pending.capability, pending.resourceId),
        review: false,
        reviewStatus: "confirmed",
        reasons: [{ code: "review.confirmed", message: `${what} granted for ${pending.ttlSeconds}s: case ${caseId} confirmed by ${by}` }],
        causedBy: [pending.eventId, event.eventId],
      },
    };
  }
  if (revoke && !session.enforcement.revoked) {
    return {
      session: { ...rest, enforcement: { ...enforcement, revoked: true } },
      level: "revoked",
      draft: {
        type: "revoke",
        review: false,
        reviewStatus: "confirmed",
        reasons: [{ code: "review.confirmed", message: `case ${caseId} confirmed and revoked by ${by}` }],
        causedBy: [event.eventId],
      },
    };
  }
  return { session: { ...rest, enforcement }, level: "confirmed" };
}

/** Where feedback on a finding is kept in the agent's baseline. */
export const feedbackKey = (code: string, capability: string | undefined): string => `${code}|${capability ?? ""}`;

/** The factor reviewers' feedback puts on a finding now: the stored factor, fading back to 1 in event time. */
export function feedbackFactor(policy: CompiledPolicy, baseline: Baseline, code: string, capability: string | undefined, time: string): number {
  const f = baseline.feedback?.[feedbackKey(code, capability)];
  if (f === undefined) return 1;
  const dt = Math.max(0, toMillis(time) - toMillis(f.at)) / 1000;
  return 1 - (1 - f.factor) * Math.pow(0.5, dt / policy.feedback.halfLifeSeconds);
}

/** Findings softened by reviewers' feedback for this agent (never sod.* nor findings with their own decision). */
export function softened(policy: CompiledPolicy, baseline: Baseline, signals: readonly Signal[], time: string): readonly Signal[] {
  if (baseline.feedback === undefined) return signals;
  return signals.map((s) => {
    if (s.decision !== undefined || s.code.startsWith("sod.")) return s;
    const factor = feedbackFactor(policy, baseline, s.code, s.capability, time);
    return factor < 1 ? { ...s, weight: s.weight * factor } : s;
  });
}

export interface Feedback {
  readonly code: string;
  readonly capability?: string;
  /** The factor now on the finding's weight for this agent. */
  readonly factor: number;
}

/** The agent's baseline after a person overturned these findings: each weighs `step` times less, never below `floor`. */
export function withFeedback(
  policy: CompiledPolicy,
  baseline: Baseline,
  overturned: readonly CaseReason[],
  time: string,
): { baseline: Baseline; feedback: Feedback[] } {
  const entries: Record<string, { factor: number; at: string }> = { ...baseline.feedback };
  const feedback: Feedback[] = [];
  for (const r of overturned) {
    if (r.hard || r.code.startsWith("sod.")) continue;
    const factor = Math.max(policy.feedback.floor, feedbackFactor(policy, baseline, r.code, r.capability, time) * policy.feedback.step);
    const key = feedbackKey(r.code, r.capability);
    delete entries[key];
    entries[key] = { factor: Math.round(factor * 1e6) / 1e6, at: time };
    feedback.push({ code: r.code, ...(r.capability ? { capability: r.capability } : {}), factor: Math.round(factor * 1e6) / 1e6 });
  }
  // Bounded: the entries set longest ago go first.
  const keys = Object.keys(entries).sort((a, b) => toMillis((entries[a] as { at: string }).at) - toMillis((entries[b] as { at: string }).at));
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_FEEDBACK))) delete entries[k];
  return feedback.length === 0 ? { baseline, feedback } : { baseline: { ...baseline, feedback: entries }, feedback };
}
