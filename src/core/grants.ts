import type { GrantRequestedEvent } from "../protocol/index.js";
import type { CommandDraft } from "./decide.js";
import { remainingOf } from "./decide.js";
import { check } from "../protocol/enforcement.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { Signal } from "./scorers/signal.js";
import type { SessionState } from "./session-state.js";
import { toIso, toMillis } from "./time.js";

// Just-in-time grants replace standing ones: a request inside the session's (declared or
// inferred) intent, from a session that is not restricted and whose risk is below the
// step-up threshold, is granted for at most scoring.grants.maxTtlSeconds. Anything else
// is denied with the reasons, so the agent (or its human) knows what to fix.

export function decideGrant(
  policy: CompiledPolicy,
  session: SessionState,
  event: GrantRequestedEvent,
  score: number,
  signals: readonly Signal[],
): { draft: CommandDraft; session: SessionState } {
  const blocking: Signal[] = [];
  const verdict = check(session.enforcement, event.capability, event.resource?.id);
  if (verdict.outcome !== "allow") blocking.push({ code: "grant.session_restricted", message: verdict.reason, weight: 0 });
  for (const s of signals) if (s.code.startsWith("intent.") || s.code.startsWith("sod.") || s.decision) blocking.push(s);
  if (score >= policy.thresholds.step_up)
    blocking.push({ code: "grant.risk_too_high", message: `session risk ${score} is at or above ${policy.thresholds.step_up}`, weight: 0 });
  const reasons = blocking.map((s) => ({ code: s.code, message: s.message }));
  if (reasons.length > 0) {
    return { session, draft: { type: "deny_grant", review: false, reasons, causedBy: [event.eventId] } };
  }
  const ttl = Math.min(event.ttlSeconds ?? policy.maxGrantTtlSeconds, policy.maxGrantTtlSeconds);
  const expiresAt = toIso(toMillis(event.time) + ttl * 1000);
  const next: SessionState = {
    ...session,
    jitGrants: [...session.jitGrants.filter((g) => g.capability !== event.capability), { capability: event.capability, expiresAt }],
  };
  return {
    session: next,
    draft: {
      type: "grant",
      removed: [],
      remaining: remainingOf(next, next.enforcement.removed),
      expiresAt,
      review: false,
      reasons: [{ code: "grant.within_intent", message: `${event.capability} granted for ${ttl}s${event.purpose ? `: ${event.purpose}` : ""}` }],
      causedBy: [event.eventId],
    },
  };
}
