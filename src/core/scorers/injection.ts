import { isAddress, unexplainedWeight } from "../reading/destinations.js";
import type { Provenance } from "../provenance.js";
import { explains, orderedAlone, provenanceOf } from "../provenance.js";
import { goalAsksForAction, goalRelation, scopeTerms } from "../scope.js";
import { overlap, stem } from "../reading/text.js";
import type { Exposure } from "../session-state.js";
import { callKey } from "../session-state.js";
import type { ScoreInput, Signal } from "./scorer.js";
import { weightOf } from "./scorer.js";
import { keptWrite } from "./kept-write.js";

// Indirect prompt injection (OWASP LLM01; Greshake et al. 2023, "Not what you've signed up
// for"): third-party content a tool returned — a mail, a web page, a file, someone else's
// message — gives the agent orders, and the agent carries them out with its principal's
// authority. Five findings, all structural (where a value came from, what the goal asks):
// - intent.injected_instructions: an output carries orders the user's goal does not give
//   (imperative or second-person sentences naming tools, addresses or things the goal never
//   mentions). Raises the session's risk; does not block by itself.
// - intent.instructed_value: a call uses a value that entered the session only inside such
//   an order (the attacker's account, address, link, user, password), not from the goal, a
//   delegated source, the user's data or an earlier call. Reads included: fetching the
//   attacker's link is egress.
// - intent.third_party_destination: money, mail, shares, posts or invitations go to a value
//   that came only from third-party prose (no order around it): weaker.
// - intent.delegated_destination: a send or write to an address that only a source the
//   user delegated to names: the order is the user's, the new payee still needs a person.
// - intent.instructed_call: after such an order, a call the order asks for (it names the
//   tool, or shares its objects) that the goal does not explain — reads included.
// Misses: orders phrased as plain statements ("the new payee is…") when the call they lead
// to is one the goal explains and its values came as whole fields; values an attacker
// manages to plant as structured fields of the user's own data.

const describe = (values: readonly string[]) => values.slice(0, 4).join(", ") + (values.length > 4 ? ` (+${values.length - 4})` : "");

/**
 * The order this call carries out, if any: one that shares more of the tool's object words
 * than the goal does (the order, not the goal, asks for it), at least `min`; an order that
 * names the tool covers all of them, so it asks for the call unless the goal covers all too.
 */
function askedBy(exposures: readonly Exposure[], capability: string, terms: ReadonlySet<string>, goalShared: number, min: number): Exposure | undefined {
  return exposures.find((e) => {
    const n = e.tools.includes(capability) ? Math.max(terms.size, 1) : overlap(terms, new Set(e.terms)).length;
    return n > goalShared && (n >= min || e.tools.includes(capability));
  });
}

export function injectionScorer(input: ScoreInput): Signal[] {
  const { event, before, policy } = input;
  if (event.type === "action.result") {
    const r = input.result;
    if (r === undefined || r.instructions.length === 0) return [];
    const about = [...new Set(r.instructions.flatMap((i) => [...i.tools, ...i.terms.slice(0, 4)]))].slice(0, 6);
    return [
      {
        code: "intent.injected_instructions",
        message: `output of ${r.capability ?? event.actionEventId} gives ${r.instructions.length} order(s) the goal does not (${about.join(", ")})`,
        weight: weightOf(input, "intent.injected_instructions"),
        facts: { values: [...new Set(r.instructions.flatMap((i) => i.tools))], ...(r.capability !== undefined ? { source: r.capability } : {}) },
      },
    ];
  }
  if (event.type !== "action" || before.intent === undefined || input.facts === undefined) return [];
  // A session that has read no tool output has no value an output could have brought.
  if (before.seen === undefined && before.exposures === undefined) return [];
  const capability = event.action.capability;
  const kind = input.facts.kind;
  const read = kind === "read";
  const signals: Signal[] = [];

  // Whole argument values (and the destinations the call names) are used by the call; addresses inside its free text are mentioned.
  const whole = new Set([...input.namedDestinations, ...(input.facts.values ?? [])]);
  const origin = new Map<string, Provenance | undefined>();
  for (const v of [...whole, ...input.destinations]) if (!origin.has(v)) origin.set(v, provenanceOf(v, before, undefined, policy.lexicon, !whole.has(v)));
  const instructed = [...origin].filter(([, p]) => p === "instructed").map(([v]) => v);
  // A read uses an ordered value harmfully when it reaches outside (a link, an address, an
  // account); looking up a name an order mentioned (a hotel, a channel) fetches nothing foreign.
  const named = instructed.filter((v) => whole.has(v) && (!read || isAddress(v)));
  // A read that merely mentions a value (a query or a channel name echoing the text it came from) sends it nowhere.
  const mentioned = read ? [] : instructed.filter((v) => !whole.has(v));
  if (named.length > 0 || mentioned.length > 0) {
    const used = [...named, ...mentioned];
    const source = before.exposures?.find((e) => e.capability !== undefined && e.values.some((v) => used.includes(v)))?.capability;
    // Strong (it may revoke, scoring.ladder) only at full weight: a value the order alone
    // gave. A bare name, a value the user's data also lists, one inferred after orders
    // overflowed: an honest agent of another model may use it too, so it is held, not revoked.
    const own = named.some((v) => orderedAlone(before, v)) ? 1 : policy.factors.ambiguousOrder;
    // A value mentioned only inside a destination argument's text (a channel's name that
    // carries the injected passage, copied whole) names where the call goes: it sends nothing.
    const inNames = input.mentionedInNames ?? [];
    const onlyInNames = named.length === 0 && inNames.length > 0 && mentioned.every((v) => inNames.includes(v));
    const w =
      weightOf(input, "intent.instructed_value") *
      (named.length > 0 ? (read ? policy.factors.instructedRead : own) : policy.factors.instructedMention * (onlyInNames ? policy.factors.mentionInName : 1));
    if (w > 0)
      signals.push({
        code: "intent.instructed_value",
        message: `${capability} uses ${describe(used)}, which only an order inside a tool's output named`,
        weight: Math.min(1, w),
        capability,
        facts: { values: used, ...(source !== undefined ? { source } : {}) },
      });
  }
  if (!read && input.facts.kind !== undefined) {
    const thirdParty = input.namedDestinations.filter((d) => origin.get(d) === "third_party" || origin.get(d) === "suspect");
    if (thirdParty.length > 0) {
      const suspect = thirdParty.some((d) => origin.get(d) === "suspect");
      signals.push({
        code: "intent.third_party_destination",
        message: `${capability} sends to ${describe(thirdParty)}, which came only from third-party text${suspect ? " that also gave orders" : ""}`,
        weight: Math.min(
          1,
          weightOf(input, "intent.third_party_destination") *
            unexplainedWeight(thirdParty, policy.factors.bareName) *
            (suspect ? policy.factors.suspectText : 1),
        ),
        capability,
        facts: { values: thirdParty },
      });
    }
    // Delegation hands over a source's orders, not the trust to pay or write to an address
    // only that source names ("our bank details have changed"): a person confirms it.
    const delegated = input.namedDestinations.filter((d) => origin.get(d) === "delegated" && isAddress(d));
    if (delegated.length > 0) {
      signals.push({
        code: "intent.delegated_destination",
        message: `${capability} sends to ${describe(delegated)}, an address only the source the goal delegated to names`,
        weight: weightOf(input, "intent.delegated_destination"),
        capability,
        facts: { values: delegated },
      });
    }
  }
  const exposures = before.exposures ?? [];
  if (exposures.length > 0 && before.intent.capabilities === undefined) {
    const tool = policy.tools.get(capability);
    const kit = tool?.toolkit === undefined ? undefined : new Set(tool.toolkit.split(" ").map(stem));
    const terms = new Set([...(tool?.terms ?? [])].filter((t) => !kit?.has(t)));
    const goalShared = overlap(terms, scopeTerms(policy, before)).length;
    const asked = askedBy(exposures, capability, terms, goalShared, read ? policy.outputs.readTerms : 1);
    const relation = goalRelation(policy, before, capability, kind);
    const explained = (relation !== undefined && relation !== "objects") || ((input.facts.namesGoalValue ?? false) && !read);
    // Reading again what the session already read before the order came is no new step.
    const again = read && (before.ranCalls ?? []).includes(callKey(capability, input.facts.values));
    if (asked !== undefined && !explained && !again) {
      // The goal's own action: the goal asks to do what this tool does (its verbs) to what
      // the tool is about (a shared object word), however many more words the order shares
      // with the tool's catalog text, and every value of the call is explained — no ordered
      // or third-party value, every destination from the goal, the user's data or the
      // session. The order shares the words; the goal asked for the action.
      const ownAction =
        goalAsksForAction(policy, before, capability, kind) && [...origin].every(([v, p]) => (p === undefined ? !input.destinations.includes(v) : explains(p)));
      // A write that stays with the user, whose values no order gave, does little for an
      // attacker whose order merely shares words with the tool; one the order names is the order's.
      const kept = !ownAction && !asked.tools.includes(capability) && keptWrite(input);
      const w = weightOf(input, "intent.instructed_call") * (ownAction ? policy.factors.goalAction : 1) * (kept ? policy.factors.keptWrite : 1);
      if (w > 0) {
        signals.push({
          code: "intent.instructed_call",
          message: `${capability} does what an order in the output of ${asked.capability ?? "a tool"} asks, not what the goal asks${ownAction ? " (though the goal asks for this action)" : kept ? " (a write that reaches no one)" : ""}`,
          weight: Math.min(1, w),
          capability,
          ...(asked.capability !== undefined ? { facts: { source: asked.capability } } : {}),
        });
      }
    }
  }
  return signals;
}
