import type { ScoreInput, Signal } from "./scorer.js";
import { matchSod, samePartyAs } from "../sod-ledger.js";

// Separation of duties (NIST SP 800-53 AC-5; maker/checker): the second step of a policy
// pair, by the same principal (or agent, or session) that took the first step on the same
// business object — in any session, through any agent — is denied on that object.

export function sodScorer(input: ScoreInput): Signal[] {
  const { event, after, policy, sod } = input;
  if (event.type !== "action" || event.outcome === "denied") return [];
  const resourceId = event.resource?.id;
  const who = { principalId: after.principalId, agentId: after.agentId, sessionId: after.sessionId };
  const signals: Signal[] = [];
  for (const m of matchSod(policy.separationOfDuties, event.action.capability, resourceId)) {
    if (m.step !== 1) continue;
    const prior = sod.records(m.key).find((r) => samePartyAs(m.entry, r, who) && r.eventId !== event.eventId);
    if (!prior) continue;
    const via = prior.sessionId === after.sessionId ? "in this session" : `in session ${prior.sessionId} (agent ${prior.agentId})`;
    signals.push({
      code: "sod.self_approval",
      message: `${m.entry.id}: ${m.entry.across} ${who[`${m.entry.across}Id`]} already did ${prior.capability} on ${resourceId ?? "it"} ${via}`,
      weight: 0,
      decision: m.entry.decision,
      review: m.entry.review,
      capability: event.action.capability,
      ...(resourceId !== undefined ? { resourceId } : {}),
      facts: { prior: { eventId: prior.eventId, sessionId: prior.sessionId, agentId: prior.agentId, capability: prior.capability, time: prior.time } },
    });
  }
  return signals;
}
