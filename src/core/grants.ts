import type { GrantRequestedEvent } from "../protocol/index.js";
import { anyGlob, globMatch } from "../protocol/glob.js";
import type { CommandDraft } from "./decide.js";
import { remainingOf } from "./decide.js";
import { check } from "../protocol/enforcement.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { Signal } from "./scorers/scorer.js";
import type { SessionState } from "./session-state.js";
import { toIso, toMillis } from "./time.js";

// Just-in-time grants replace standing ones. A request is weighed like an action:
//   - the policy: a capability in `grants.never` is never granted just in time;
//   - scope: inside the declared capabilities, or, outside them, plainly asked for by the
//     goal (the same inference from the goal's words and the tool catalog as for actions
//     without a declared list);
//   - the session: not restricted for that capability, risk below the step-up threshold,
//     no finding that carries its own decision or a separation-of-duties conflict;
//   - a capability in `grants.review` waits for a person: a review case opens, and the
//     reviewer's confirmation grants it (core/review.ts).
// A grant is for the resource asked (when one is) and the TTL asked, capped by the first
// matching `grants.maxTtlSeconds` glob, else `scoring.grants.maxTtlSeconds`.

/** The TTL cap for a capability. */
export function grantTtlCap(policy: CompiledPolicy, capability: string): number {
  for (const [glob, seconds] of policy.grantRules?.maxTtlSeconds ?? []) if (globMatch(glob, capability)) return Math.min(seconds, policy.maxGrantTtlSeconds);
  return policy.maxGrantTtlSeconds;
}

/** The command's `grant` field: set unless the session already holds the capability as a standing grant. */
export const newGrant = (session: SessionState, capability: string, resourceId: string | undefined): Pick<CommandDraft, "grant"> =>
  anyGlob(session.grants, capability) ? {} : { grant: { capability, ...(resourceId !== undefined ? { resourceId } : {}) } };

/** A grant in force from `time` for `ttl` seconds, replacing an earlier one for the same capability and resource. */
export function withGrant(
  session: SessionState,
  capability: string,
  resourceId: string | undefined,
  time: string,
  ttl: number,
): { session: SessionState; expiresAt: string } {
  const expiresAt = toIso(toMillis(time) + ttl * 1000);
  const grant = { capability, expiresAt, ...(resourceId !== undefined ? { resourceId } : {}) };
  return {
    expiresAt,
    session: { ...session, jitGrants: [...session.jitGrants.filter((g) => g.capability !== capability || g.resourceId !== resourceId), grant] },
  };
}

export function decideGrant(
  policy: CompiledPolicy,
  session: SessionState,
  event: GrantRequestedEvent,
  score: number,
  signals: readonly Signal[],
): { draft: CommandDraft; session: SessionState; pending?: NonNullable<SessionState["openCase"]>["grant"] } {
  const capability = event.capability;
  const resourceId = event.resource?.id;
  const blocking: Signal[] = [];
  if (policy.grantRules && anyGlob(policy.grantRules.never, capability))
    blocking.push({ code: "grant.never", message: `${capability} is never granted just in time (policy grants.never)`, weight: 0 });
  const verdict = check(session.enforcement, capability, resourceId);
  if (verdict.outcome !== "allow") blocking.push({ code: "grant.session_restricted", message: verdict.reason, weight: 0 });
  for (const s of signals) if (s.code.startsWith("intent.") || s.code.startsWith("sod.") || s.decision) blocking.push(s);
  if (score >= policy.thresholds.step_up)
    blocking.push({ code: "grant.risk_too_high", message: `session risk ${score} is at or above ${policy.thresholds.step_up}`, weight: 0 });
  const reasons = blocking.map((s) => ({ code: s.code, message: s.message }));
  if (reasons.length > 0) return { session, draft: { type: "deny_grant", review: false, reasons, causedBy: [event.eventId] } };

  // Outside the declared list and not out of scope: the intent scorer found the goal asks for it.
  const declared = session.intent?.capabilities;
  const goalBacked = declared !== undefined && !anyGlob(declared, capability);
  const ttl = Math.min(event.ttlSeconds ?? grantTtlCap(policy, capability), grantTtlCap(policy, capability));
  const what = `${capability}${resourceId !== undefined ? ` on ${resourceId}` : ""}`;
  const why = goalBacked ? "grant.goal_backed" : "grant.within_intent";
  if (policy.grantRules && anyGlob(policy.grantRules.review, capability)) {
    return {
      session,
      pending: { capability, ...(resourceId !== undefined ? { resourceId } : {}), ttlSeconds: ttl, eventId: event.eventId },
      draft: {
        type: "deny_grant",
        review: true,
        reasons: [{ code: "grant.needs_review", message: `${what} is granted only after a reviewer confirms (policy grants.review); ${why}` }],
        causedBy: [event.eventId],
      },
    };
  }
  const granted = withGrant(session, capability, resourceId, event.time, ttl);
  return {
    session: granted.session,
    draft: {
      type: "grant",
      removed: [],
      remaining: remainingOf(granted.session, granted.session.enforcement.removed),
      expiresAt: granted.expiresAt,
      ...newGrant(session, capability, resourceId),
      review: false,
      reasons: [
        {
          code: why,
          message: `${what} granted for ${ttl}s${goalBacked ? " (outside the declared capabilities; the goal asks for it)" : ""}${event.purpose ? `: ${event.purpose}` : ""}`,
        },
      ],
      causedBy: [event.eventId],
    },
  };
}
