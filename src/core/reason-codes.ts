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
