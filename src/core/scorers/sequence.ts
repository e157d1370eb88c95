import type { ActionMatcher } from "../../protocol/index.js";
import { sensitivityRank } from "../../protocol/index.js";
import { globMatch } from "../../protocol/glob.js";
import type { RecentAction } from "../session-state.js";
import { toMillis } from "../time.js";
import type { ScoreInput, Signal } from "./scorer.js";

// Ordered patterns within a session (MITRE ATT&CK TA0010 Exfiltration: collection then
// transfer): when an action matches a pattern's `then` and an earlier action within the
// window matched its `first`, the pattern's decision applies. The default policy ships
// `exfiltration` (sensitive read, then external egress). Misses: exfiltration split
// across sessions (see separation of duties and baselines for cross-session facts).

export function matches(m: ActionMatcher, a: RecentAction): boolean {
  if (m.capability !== undefined && !globMatch(m.capability, a.capability)) return false;
  if (m.kind !== undefined && (a.kind === undefined || !m.kind.includes(a.kind as never))) return false;
  if (m.sensitivity !== undefined && !a.tags.some((t) => m.sensitivity?.includes(t))) return false;
  if (m.minClassification !== undefined && (a.classification === undefined || sensitivityRank(a.classification) < sensitivityRank(m.minClassification)))
    return false;
  if (m.external !== undefined && a.external !== m.external) return false;
  return true;
}

export function sequenceScorer(input: ScoreInput): Signal[] {
  const { event, after, policy } = input;
  if (event.type !== "action") return [];
  const current = after.recent[after.recent.length - 1];
  if (!current || current.eventId !== event.eventId) return [];
  const earlier = after.recent.slice(0, -1);
  const now = toMillis(event.time);
  const signals: Signal[] = [];
  for (const seq of policy.sequences) {
    if (!seq.then.some((m) => matches(m, current))) continue;
    const within = seq.withinSeconds === undefined ? Infinity : seq.withinSeconds * 1000;
    const first = earlier.find((a) => now - a.ms <= within && seq.first.some((m) => matches(m, a)));
    if (first) {
      signals.push({
        code: `sequence.${seq.id}`,
        message: `${first.capability} (${first.tags.join(", ") || first.classification || "matched"}) then ${current.capability}`,
        weight: seq.weight,
        decision: seq.decision,
        review: seq.review,
        capability: current.capability,
        evidence: [first.eventId],
        facts: {
          values: first.tags.length > 0 ? first.tags : first.classification !== undefined ? [first.classification] : [],
          prior: { eventId: first.eventId, sessionId: after.sessionId, agentId: after.agentId, capability: first.capability, time: first.time },
        },
      });
    }
  }
  return signals;
}
