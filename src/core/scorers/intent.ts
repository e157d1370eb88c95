import { anyGlob } from "../../protocol/glob.js";
import { toMillis } from "../time.js";
import { goalMentions } from "../destinations.js";
import { cachedTokens, overlap } from "../text.js";
import type { ScoreInput, Signal } from "./signal.js";
import { weightOf } from "./signal.js";

// Intent drift (OWASP LLM08 "excessive agency"; the seed's confused-deputy story): the
// agent does something its principal did not ask for. Declared scope (capabilities and
// resource globs) is checked exactly; without it, scope is inferred from the goal text
// against the tool catalog: a capability whose name and description share no word stem
// with the goal is unrelated to it. Misses: drift that uses a tool the goal plausibly needs.

const RISK_FACTOR = { low: 0.5, medium: 1, high: 1.4, critical: 1.8 } as const;
const KIND_FACTOR: Readonly<Record<string, number>> = { read: 0.5, write: 1, execute: 1.2, egress: 1.3, delete: 1.4, admin: 1.6 };

export function intentScorer(input: ScoreInput): Signal[] {
  const { event, before, policy } = input;
  if (event.type !== "action" && event.type !== "grant.requested") return [];
  const capability = event.type === "action" ? event.action.capability : event.capability;
  const signals: Signal[] = [];
  if (!before.started && before.counters.events === 0) {
    signals.push({ code: "intent.unknown", message: "session was never started: no declared intent", weight: weightOf(input, "intent.unknown") });
  }
  const intent = before.intent;
  const kind = input.facts?.kind;
  if (!intent) {
    // Without a declared intent, every high-impact action is itself unexplained.
    if (kind === "egress" || kind === "delete" || kind === "admin") {
      signals.push({ code: "intent.unknown", message: `${kind} action ${capability} with no declared intent`, weight: Math.min(1, weightOf(input, "intent.unknown") * (KIND_FACTOR[kind] ?? 1)), capability });
    }
    return signals;
  }
  if (intent.expiresAt !== undefined && toMillis(event.time) > toMillis(intent.expiresAt)) {
    signals.push({ code: "intent.expired", message: `intent expired at ${intent.expiresAt}`, weight: weightOf(input, "intent.expired"), capability });
  }
  const tool = policy.tools.get(capability);
  const factor = Math.min(1.8, RISK_FACTOR[tool?.risk ?? "medium"] * (kind ? (KIND_FACTOR[kind] ?? 1) : 1));
  if (intent.capabilities !== undefined) {
    if (!anyGlob(intent.capabilities, capability)) {
      signals.push({
        code: "intent.out_of_scope",
        message: `${capability} is outside the declared capabilities`,
        weight: Math.min(1, weightOf(input, "intent.out_of_scope") * factor),
        capability,
      });
    }
  } else if (intent.goal.trim() !== "") {
    const shared = overlap(cachedTokens(intent.goal), tool?.tokens ?? cachedTokens(capability));
    if (shared.length === 0) {
      signals.push({
        code: "intent.unrelated_capability",
        message: `${capability} shares nothing with the goal`,
        weight: Math.min(1, weightOf(input, "intent.unrelated_capability") * factor),
        capability,
      });
    }
  }
  const resource = event.resource;
  if (intent.resources !== undefined && resource?.id !== undefined) {
    const name = resource.type ? `${resource.type}:${resource.id}` : resource.id;
    if (!anyGlob(intent.resources, name) && !anyGlob(intent.resources, resource.id)) {
      signals.push({ code: "intent.resource_out_of_scope", message: `${name} is outside the declared resources`, weight: weightOf(input, "intent.resource_out_of_scope"), capability });
    }
  }
  if (event.type === "action" && input.facts?.external) {
    const foreign = input.destinations.filter((d) => !goalMentions(intent.goal, d));
    if (foreign.length > 0 && input.destinations.length > 0) {
      signals.push({
        code: "intent.destination_not_in_goal",
        message: `destination ${foreign.join(", ")} is not named in the goal`,
        weight: weightOf(input, "intent.destination_not_in_goal"),
        capability,
      });
    }
  }
  return signals;
}
