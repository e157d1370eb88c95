import { sensitivityRank } from "../../protocol/index.js";
import { cachedTokens } from "../text.js";
import type { ScoreInput, Signal } from "./signal.js";
import { weightOf } from "./signal.js";

// Data above the intent's ceiling (NIST SP 800-207 "least privilege per request"): the
// declared maxSensitivity caps what a session may touch; and sensitive tags (secrets,
// credentials, PII...) that nothing in the goal implies. Misses: data mis-labelled by the sender.

const HIGH_TAGS = new Set(["secret", "secrets", "credentials", "credential", "password", "token", "key"]);
const TAG_WORDS: Readonly<Record<string, readonly string[]>> = {
  secret: ["secret", "vault", "key", "token", "credential"],
  credentials: ["credential", "password", "login", "token", "key"],
  pii: ["customer", "employe", "person", "user", "contact", "address", "profil", "pii"],
  financial: ["financ", "expens", "invoic", "payment", "pay", "bank", "budget", "account", "transaction", "bill", "salary", "report"],
  strategic: ["strateg", "roadmap", "plan", "merger", "acquisition", "board"],
};

export function sensitivityScorer(input: ScoreInput): Signal[] {
  const { event, before } = input;
  if (event.type !== "action") return [];
  const capability = event.action.capability;
  const signals: Signal[] = [];
  const classification = event.resource?.classification;
  const ceiling = before.intent?.maxSensitivity;
  if (classification && ceiling && sensitivityRank(classification) > sensitivityRank(ceiling)) {
    const w = weightOf(input, "sensitivity.above_ceiling") * (classification === "restricted" ? 1.25 : 1);
    signals.push({ code: "sensitivity.above_ceiling", message: `${classification} data exceeds the intent's ceiling ${ceiling}`, weight: Math.min(1, w), capability });
  }
  const goal = before.intent ? cachedTokens(before.intent.goal) : new Set<string>();
  const unexpected = (input.facts?.tags ?? []).filter((tag) => {
    const implied = Object.hasOwn(TAG_WORDS, tag) ? (TAG_WORDS[tag] as readonly string[]) : [tag];
    return !implied.some((w) => [...goal].some((g) => g.startsWith(w) || w.startsWith(g)));
  });
  if (unexpected.length > 0) {
    const high = unexpected.some((t) => HIGH_TAGS.has(t));
    signals.push({
      code: "sensitivity.unexpected_tag",
      message: `${unexpected.join(", ")} data not implied by the goal`,
      weight: weightOf(input, "sensitivity.unexpected_tag") * (high ? 1 : 0.5),
      capability,
    });
  }
  return signals;
}
