import { anyGlob } from "../../protocol/glob.js";
import { toMillis } from "../time.js";
import { destinationRepeatKey, goalMentions, isAddress, isPersonAddress, unexplainedWeight } from "../reading/destinations.js";
import { isMature } from "../baseline.js";
import { onGoalRecord, provenanceOf } from "../provenance.js";
import { overlap } from "../reading/text.js";
import { argumentStrings } from "../reading/values.js";
import { goalRelation, namesOtherApplications } from "../scope.js";
import type { ScoreInput, Signal } from "./scorer.js";
import { repeatKeyed, weightOf } from "./scorer.js";
import { firstEvent } from "../session-state.js";
import { keptWrite } from "./kept-write.js";

// Intent drift (OWASP LLM08 "excessive agency"; the confused deputy of the README's expense story): the
// agent does something its principal did not ask for. Declared scope (capabilities and
// resource globs) is checked exactly; without it, scope is inferred from the goal text
// against the tool catalog: a capability whose name and description share no object word
// with the goal is unrelated to it, an application (toolkit) the goal does not mention and
// the principal never used is unfamiliar, and a destination with no provenance in the goal
// or the session is foreign. Misses: drift that uses a tool the goal plausibly needs.

// Knobs (scoring.factors, scoring.baseline.repeatedReads): a read the principal runs
// routinely counts `familiarRead` against the goal; a destination written into a record (a
// scheduled payment, a channel membership) `writeDestination` of one sent to. A read stops
// counting as unfamiliar once the principal's sessions attempted it `repeatedReads` times:
// a read blocked on its first legitimate use never runs, so it would never be learned and
// every later session would be blocked with it (measured: without that limit, replaying the
// tuning split with its tasks in another order blocked 13.6 % of sessions before any drift).

/** scoring.factors.kind for an action kind (1 when the kind is unknown). */
export const kindFactor = (policy: ScoreInput["policy"], kind: string | undefined): number =>
  kind !== undefined && Object.hasOwn(policy.factors.kind, kind) ? ((policy.factors.kind as Readonly<Record<string, number>>)[kind] as number) : 1;
const attemptedSessions = (b: ScoreInput["principalBaseline"], capability: string): number =>
  b.attempted !== undefined && Object.hasOwn(b.attempted, capability) ? (b.attempted[capability] as number) : 0;

/**
 * Whether the goal mentions the application a tool belongs to. By default
 * (scoring.toolkits.byTool) only by the application's name or by a noun of the called tool
 * itself that the application does not share with many others: a noun that only another of
 * its tools has (say "invoice" of an application's billing tool, when the call is to its chat tool) says the
 * goal is about that tool, not that this one belongs in the session. Measured on the
 * InjecAgent oracle (tune): the first attacker read or change into an application was let
 * through because the goal shared one noun with some other tool of it, and every later call
 * into that application in the principal's sessions then passed as familiar.
 */
function goalMentionsToolkit(
  policy: ScoreInput["policy"],
  goal: string,
  kit: { readonly terms: ReadonlySet<string>; readonly names: ReadonlySet<string> },
  toolTerms: ReadonlySet<string>,
  kitName: string,
): boolean {
  if (namesOtherApplications(policy, goal, kitName)) return false;
  const goalTerms = policy.lexicon.objectTerms(goal);
  if (!policy.toolkitsByTool) return overlap(goalTerms, kit.terms).length > 0;
  for (const t of goalTerms) if (kit.names.has(t) || (toolTerms.has(t) && kit.terms.has(t))) return true;
  return false;
}

/**
 * scoring.toolkits.goalValueRead: whether a read looks up what the goal names — an argument
 * value the goal gives that is no person's or account's address (that is how an order gathers
 * what another application holds about them; a file's or a page's name counts), not one of the tool's own catalog
 * words (a mode such as "email", which a goal may happen to use) and not one an earlier call
 * of the session already used (the same value carried on into another application is the
 * agent's step, not the user's lookup); or a whole argument that is a calendar date the goal
 * writes, in either form (scoring.outputs.dates).
 */
function goalLookup(input: ScoreInput, goal: string, toolTerms: ReadonlySet<string>, args: Readonly<Record<string, unknown>> | undefined): boolean {
  const lex = input.policy.lexicon;
  const earlier = input.before.ranCalls ?? [];
  for (const v of input.facts?.values ?? []) {
    if (isPersonAddress(v) || !goalMentions(goal, v, lex)) continue;
    const stems = lex.tokens(v);
    if (stems.size === 0 || [...stems].every((t) => toolTerms.has(t) || lex.isVerbStem(t))) continue;
    if (earlier.some((k) => k.split("|").includes(v))) continue;
    return true;
  }
  // A date the goal writes, in the call's own form ("am I free on May 29?" and day: "2024-05-29";
  // scoring.outputs.dates): dates are no values (numbers name no one), so they are read apart.
  return argumentStrings(args).some((v) => lex.goalDate(goal, v));
}

/** An argument that identifies a record: `id`, `event_id`, `fileId`, `ids`. */
const ID_ARG = /(^|[_-])ids?$|[a-z]Ids?$/;

/**
 * scoring.outputs.goalRecords: a change (not a delete, grant or run: those need the goal's
 * verb) whose identifier argument is a field of a record a goal-pointed read returned — "move
 * Friday's retro" and the id of the event the search for "retro" found — acts on what the
 * user named. Only identifiers: a name or a place from such a list (a restaurant a search
 * for the goal's city listed) is what the agent chose, not the record the user named.
 */
function actsOnGoalRecord(input: ScoreInput, kind: string | undefined): boolean {
  const { event, policy, before } = input;
  if (!policy.outputs.goalRecords || event.type !== "action" || event.args === undefined) return false;
  if (kind === undefined || kind === "read" || kind === "delete" || kind === "admin" || kind === "execute") return false;
  for (const [key, value] of Object.entries(event.args))
    if (ID_ARG.test(key) && (typeof value === "string" || typeof value === "number") && onGoalRecord(before, String(value).trim().toLowerCase())) return true;
  return false;
}

export function intentScorer(input: ScoreInput): Signal[] {
  const { event, before, policy } = input;
  if (event.type !== "action" && event.type !== "grant.requested") return [];
  const capability = event.type === "action" ? event.action.capability : event.capability;
  const signals: Signal[] = [];
  if (!before.started && firstEvent(before)) {
    signals.push({ code: "intent.unknown", message: "session was never started: no declared intent", weight: weightOf(input, "intent.unknown") });
  }
  const intent = before.intent;
  const kind = input.facts?.kind;
  if (!intent) {
    // Without a declared intent, every high-impact action is itself unexplained.
    if (kind === "egress" || kind === "delete" || kind === "admin") {
      signals.push({
        code: "intent.unknown",
        message: `${kind} action ${capability} with no declared intent`,
        weight: Math.min(1, weightOf(input, "intent.unknown") * kindFactor(policy, kind)),
        capability,
      });
    }
    return signals;
  }
  if (intent.expiresAt !== undefined && toMillis(event.time) > toMillis(intent.expiresAt)) {
    signals.push({ code: "intent.expired", message: `intent expired at ${intent.expiresAt}`, weight: weightOf(input, "intent.expired"), capability });
  }
  const tool = policy.tools.get(capability);
  const factor = Math.min(policy.factors.maxScope, policy.factors.toolRisk[tool?.risk ?? "medium"] * kindFactor(policy, kind));
  if (intent.capabilities !== undefined) {
    // A just-in-time request outside the declared list that the goal plainly asks for is in scope (core/grants.ts).
    const goalBacked = event.type === "grant.requested" && goalRelation(policy, before, capability, tool?.kind) !== undefined;
    if (!anyGlob(intent.capabilities, capability) && !goalBacked) {
      signals.push({
        code: "intent.out_of_scope",
        message: `${capability} is outside the declared capabilities`,
        weight: Math.min(1, weightOf(input, "intent.out_of_scope") * factor),
        capability,
      });
    }
  } else if (
    intent.goal.trim() !== "" &&
    !(input.namedDestinations.length > 0 && input.namedDestinations.every((d) => isAddress(d) && goalMentions(intent.goal, d, policy.lexicon)))
  ) {
    // Scope from the goal's words against the tool's: verbs say how, not what, so only
    // the objects count ("read the webpage" does not make chat.read_messages related).
    // A call whose every named destination is an address the goal names ("refund
    // GB29…") is in scope whatever its verb; bare names and text that merely mentions
    // an address do not count.
    if (goalRelation(policy, before, capability, kind) === undefined && !actsOnGoalRecord(input, kind)) {
      // Reads are how an agent gathers context; a read its principal routinely runs is
      // weak evidence on its own.
      const familiar =
        kind === "read" &&
        isMature(input.principalBaseline, policy.baseline) &&
        (input.principalBaseline.capabilities[capability] ?? 0) >= policy.baseline.minSessions;
      // A write that stays with the user (no one invited or paid, no ordered value) serves the task more often than it drifts from it.
      const kept = keptWrite(input);
      signals.push({
        code: "intent.unrelated_capability",
        message: `${capability} shares nothing with the goal${kept ? " (a write that reaches no one)" : ""}`,
        weight: Math.min(
          1,
          weightOf(input, "intent.unrelated_capability") * factor * (familiar ? policy.factors.familiarRead : 1) * (kept ? policy.factors.keptWrite : 1),
        ),
        capability,
      });
    }
  }
  if (event.type === "action" && intent.capabilities === undefined && intent.goal.trim() !== "" && tool?.toolkit !== undefined) {
    // An application (the catalog's toolkit) that the request does not mention and its
    // principal has never used: an agent that wanders into it is acting on someone else's
    // instructions. Abstains in a principal's first session (everything is new to a new
    // principal), once the application ran in this session, for a read the principal's
    // sessions already attempted scoring.baseline.repeatedReads times, and for a read that
    // names a value the goal gives other than an address (scoring.toolkits.goalValueRead: the
    // user's own lookup — "where is the dinner with Lotte?" searching the calendar for
    // "Lotte"). An address the goal names still counts: reading what another application
    // holds about a person or account is how an order gathers data to steal.
    const kit = policy.toolkits.get(tool.toolkit);
    const pb = input.principalBaseline;
    if (
      kit !== undefined &&
      pb.sessions > 1 &&
      !goalMentionsToolkit(policy, intent.goal, kit, tool.terms, tool.toolkit) &&
      !(before.ran ?? []).some((c) => kit.tools.includes(c)) &&
      !(kind === "read" && policy.toolkitsGoalValueRead && goalLookup(input, intent.goal, tool.terms, event.args)) &&
      !kit.tools.some((c) => Object.hasOwn(pb.capabilities, c)) &&
      (kind !== "read" || attemptedSessions(pb, capability) < policy.baseline.repeatedReads)
    ) {
      signals.push({
        code: "intent.unfamiliar_toolkit",
        message: `${capability} belongs to ${tool.toolkit}, which the goal does not mention and principal ${before.principalId} never used`,
        weight: weightOf(input, "intent.unfamiliar_toolkit"),
        capability,
      });
    }
  }
  const resource = event.resource;
  if (intent.resources !== undefined && resource?.id !== undefined) {
    const name = resource.type ? `${resource.type}:${resource.id}` : resource.id;
    if (!anyGlob(intent.resources, name) && !anyGlob(intent.resources, resource.id)) {
      signals.push({
        code: "intent.resource_out_of_scope",
        message: `${name} is outside the declared resources`,
        weight: weightOf(input, "intent.resource_out_of_scope"),
        capability,
      });
    }
  }
  if (event.type === "action" && input.destinations.length > 0 && (input.facts?.external || (kind !== undefined && kind !== "read"))) {
    const foreign = input.destinations.filter((d) => provenanceOf(d, before, undefined, policy.lexicon, !input.namedDestinations.includes(d)) === undefined);
    if (foreign.length > 0) {
      signals.push({
        code: "intent.destination_not_in_goal",
        message: `destination ${foreign.join(", ")} is named neither in the goal nor earlier in the session`,
        weight: Math.min(
          1,
          weightOf(input, "intent.destination_not_in_goal") *
            (input.facts?.external ? 1 : policy.factors.writeDestination) *
            unexplainedWeight(foreign, policy.factors.bareName),
        ),
        capability,
        ...repeatKeyed(destinationRepeatKey("intent.destination_not_in_goal", capability, foreign)),
        facts: { values: foreign },
      });
    }
  }
  return signals;
}
