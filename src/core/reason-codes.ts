// The reason codes scorers weigh: a leaf module, so the policy compiler can check every
// code has a weight without importing the scorers.

/** Every reason code a scorer weighs from `scoring.weights` (rules, SoD and sequences carry their own). */
export const WEIGHTED_CODES = [
  "intent.unknown",
  "intent.out_of_scope",
  "intent.resource_out_of_scope",
  "intent.unrelated_capability",
  "intent.expired",
  "intent.destination_not_in_goal",
  "intent.unfamiliar_toolkit",
  "intent.judge_drift",
  "intent.injected_instructions",
  "intent.instructed_value",
  "intent.third_party_destination",
  "intent.delegated_destination",
  "intent.instructed_call",
  "sensitivity.above_ceiling",
  "sensitivity.unexpected_tag",
  "baseline.new_capability",
  "baseline.new_destination",
  "baseline.rate_spike",
  "baseline.harmful_burst",
  "baseline.rare_transition",
  "context.device_noncompliant",
  "context.new_geo",
  "context.new_ip",
  "context.unusual_hour",
] as const;
export type SignalCode = (typeof WEIGHTED_CODES)[number];

/**
 * The reason codes of findings on a session's MCP tool definitions (mcp-tools.ts): not
 * weighted, the policy's `mcp` section decides what follows each (a downgrade of the tool's
 * capability, or a report).
 */
export const TOOL_FINDING_CODES = {
  poisoning: "context.tool_poisoning",
  changed: "context.tool_changed",
  shadowing: "context.tool_shadowing",
} as const;

/**
 * The reason codes that carry a decision of their own rather than a weight: separation of
 * duties, the cumulative-risk fallback, the answers to a just-in-time grant request, and a
 * reviewer's verdict. With the two lists above, every fixed code Vigil raises.
 */
export const DECISION_CODES = [
  "sod.self_approval",
  "rule.cumulative_risk",
  "grant.never",
  "grant.session_restricted",
  "grant.risk_too_high",
  "grant.needs_review",
  "grant.within_intent",
  "grant.goal_backed",
  "review.confirmed",
  "review.overturned",
] as const;
export type DecisionCode = (typeof DECISION_CODES)[number];

/** Families whose codes the policy names (`rule.<id>`, `sequence.<id>`): the rest of the code is the entry's id. */
export const POLICY_CODE_FAMILIES = ["rule", "sequence"] as const;
