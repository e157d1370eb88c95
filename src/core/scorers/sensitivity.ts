import { sensitivityRank } from "../../protocol/index.js";
import type { ScoreInput, Signal } from "./scorer.js";
import { weightOf } from "./scorer.js";

// Data above the intent's ceiling (NIST SP 800-207 "least privilege per request"): the
// declared maxSensitivity caps what a session may touch; and sensitive tags (secrets,
// credentials, PII...) that nothing in the goal implies. Misses: data mis-labelled by the sender.

// The goal words that imply each tag and the tags that weigh fully are the policy's
// (`scoring.words.sensitivity`, `scoring.words.highSensitivity`).

export function sensitivityScorer(input: ScoreInput): Signal[] {
  const { event, before, policy } = input;
  const lex = policy.lexicon;
  if (event.type !== "action") return [];
  const capability = event.action.capability;
  const signals: Signal[] = [];
  const classification = event.resource?.classification;
  const ceiling = before.intent?.maxSensitivity;
  if (classification && ceiling && sensitivityRank(classification) > sensitivityRank(ceiling)) {
    const w = weightOf(input, "sensitivity.above_ceiling") * (classification === "restricted" ? policy.factors.restrictedCeiling : 1);
    signals.push({
      code: "sensitivity.above_ceiling",
      message: `${classification} data exceeds the intent's ceiling ${ceiling}`,
      weight: Math.min(1, w),
      capability,
      facts: { values: [classification, ceiling] },
    });
  }
  const goal = before.intent ? lex.tokens(before.intent.goal) : new Set<string>();
  const unexpected = (input.facts?.tags ?? []).filter((tag) => {
    const implied = Object.hasOwn(lex.sensitivity, tag) ? (lex.sensitivity[tag] as readonly string[]) : [tag];
    return !implied.some((w) => [...goal].some((g) => g.startsWith(w) || w.startsWith(g)));
  });
  if (unexpected.length > 0) {
    const high = unexpected.some((t) => lex.highSensitivity.has(t));
    signals.push({
      code: "sensitivity.unexpected_tag",
      message: `${unexpected.join(", ")} data not implied by the goal`,
      weight: weightOf(input, "sensitivity.unexpected_tag") * (high ? 1 : policy.factors.lowSensitivityTag),
      capability,
      facts: { values: unexpected },
    });
  }
  return signals;
}
