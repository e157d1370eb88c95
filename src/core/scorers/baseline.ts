import { isMature } from "../baseline.js";
import { destinationRepeatKey, unexplainedWeight } from "../reading/destinations.js";
import { provenanceOf } from "../provenance.js";
import { goalRelation } from "../scope.js";
import { toMillis } from "../time.js";
import type { SessionState } from "../session-state.js";
import { RECENT_ACTIONS } from "../session-state.js";
import type { ScoreInput, Signal } from "./scorer.js";
import { repeatKeyed, weightOf } from "./scorer.js";

// Behavioural baselines (UEBA-style anomaly detection, in event time): a capability this
// agent and principal never used, a destination (recipient, URL, account) the principal
// never sent to and the goal does not name, a burst far above the agent's usual peak rate,
// and a transition between tools the agent never made. Each abstains until the baseline
// is mature (policy scoring.baseline: minSessions and minActions). Misses: slow drift
// that stays within learned habits; the first sessions of a new agent.

/** Kinds whose bursts are dangerous: what leaves, what is destroyed, what changes who may do what. */
export const isHarmful = (kind: string | undefined): boolean => kind === "egress" || kind === "delete" || kind === "admin";

/** Egress, delete and admin actions the session attempted within `windowSeconds` before `nowMs` (among its last actions). */
export const harmfulWithin = (session: SessionState, nowMs: number, windowSeconds: number): number =>
  session.recent.filter((a) => isHarmful(a.kind) && nowMs - a.ms < windowSeconds * 1000).length;

/**
 * A burst limit: max(floor, multiple × the agent's learned peak), capped below what the
 * session's memory of recent actions can count, so a learned peak never lifts the limit
 * out of reach (training the baseline off).
 */
const limitOf = (floor: number, multiple: number, peak: number): number => Math.min(Math.max(floor, multiple * peak), RECENT_ACTIONS - 1);

export function baselineScorer(input: ScoreInput): Signal[] {
  const { event, before, after, agentBaseline: ab, principalBaseline: pb, policy } = input;
  if (event.type !== "action") return [];
  const capability = event.action.capability;
  const signals: Signal[] = [];
  const agentMature = isMature(ab, policy.baseline);
  const principalMature = isMature(pb, policy.baseline);
  if (agentMature && principalMature && !Object.hasOwn(ab.capabilities, capability) && !Object.hasOwn(pb.capabilities, capability)) {
    // A first read the goal relates to (shares object words with it) is the new task bringing
    // its tools: the goal explains the novelty the baseline sees. Reads only: a first change
    // or send is news of its own, whatever the goal says.
    const explained =
      input.facts?.kind === "read" && before.intent?.capabilities === undefined && goalRelation(policy, before, capability, "read") !== undefined;
    signals.push({
      code: "baseline.new_capability",
      message: `${capability} never used by agent ${after.agentId} nor principal ${after.principalId}${explained ? " (the goal relates to it)" : ""}`,
      weight: weightOf(input, "baseline.new_capability") * (explained ? policy.factors.goalNewTool : 1),
      capability,
      // A new task brings its new reads together: the session's further first reads are
      // correlated with its first one, not independent news (the repeat discount, per session).
      // Reads only: a first change or send is news of its own.
      ...repeatKeyed(policy.baseline.newToolsTogether && input.facts?.kind === "read" ? "baseline.new_capability|read" : undefined),
    });
  }
  if (principalMature && (input.facts?.egress || (input.facts?.kind !== undefined && input.facts.kind !== "read"))) {
    const unseen = input.destinations.filter((d) => provenanceOf(d, before, pb, policy.lexicon, !input.namedDestinations.includes(d)) === undefined);
    if (unseen.length > 0) {
      signals.push({
        code: "baseline.new_destination",
        message: `principal ${after.principalId} never sent to ${unseen.join(", ")}`,
        weight: weightOf(input, "baseline.new_destination") * unexplainedWeight(unseen, policy.factors.bareName),
        capability,
        ...repeatKeyed(destinationRepeatKey("baseline.new_destination", capability, unseen)),
        facts: { values: unseen },
      });
    }
  }
  // A sustained burst of destructive or egress actions far above what this agent has ever
  // done (ransomware-like mass deletion, spraying mail or payments): a hard step-up at
  // least (scoring.burst), so the repeat discount can never let it pass on weak findings.
  if (isHarmful(input.facts?.kind)) {
    const count = harmfulWithin(after, toMillis(event.time), policy.burst.windowSeconds);
    const peak = before.peaksAtStart?.harmful ?? ab.peakHarmful ?? 0;
    const limit = limitOf(policy.burst.minActions, policy.burst.multiple, peak);
    if (count > limit) {
      signals.push({
        code: "baseline.harmful_burst",
        message: `${count} egress/delete/admin actions within ${policy.burst.windowSeconds} s; this agent's peak is ${peak}`,
        weight: weightOf(input, "baseline.harmful_burst"),
        decision: policy.burst.decision,
        capability,
      });
    }
  }
  if (agentMature) {
    const now = toMillis(event.time);
    const windowMs = policy.baseline.rateWindowSeconds * 1000;
    const lastMinute = after.recent.filter((a) => now - a.ms < windowMs).length;
    const peak = before.peaksAtStart?.perMinute ?? ab.peakPerMinute;
    const limit = limitOf(policy.baseline.rateSpikeFloor, policy.baseline.rateSpikeMultiple, peak);
    if (lastMinute > limit && before.recent.filter((a) => now - a.ms < windowMs).length <= limit) {
      signals.push({
        code: "baseline.rate_spike",
        message: `${lastMinute} actions in a minute; this agent's peak is ${peak}`,
        weight: weightOf(input, "baseline.rate_spike"),
      });
    }
    const previous = before.recent[before.recent.length - 1]?.capability;
    if (
      previous !== undefined &&
      Object.hasOwn(ab.capabilities, previous) &&
      Object.hasOwn(ab.capabilities, capability) &&
      !Object.hasOwn(ab.transitions, `${previous}>${capability}`)
    ) {
      signals.push({
        code: "baseline.rare_transition",
        message: `agent ${after.agentId} never went from ${previous} to ${capability}`,
        weight: weightOf(input, "baseline.rare_transition"),
        capability,
      });
    }
  }
  return signals;
}
