import type { ActionKind } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { SessionState } from "./session-state.js";
import { MAX_TEXT_WORDS, overlap, stem, words } from "./reading/text.js";

// How a goal written in words relates to a tool: by what it names (object words shared with
// the tool's name, description and application) or by what it asks to do (its verbs: "pay
// the bill", "refund", "send them the difference" ask for a payment whatever the tool that
// makes one is called). Reads relate by objects only: every tool reads something.

type Scope = Pick<SessionState, "intent" | "delegatedTerms">;

/**
 * What the user asked about: the object stems of the goal (its addresses left out: an
 * address is one value, matched whole), and of the orders in sources the goal delegated to
 * ("do the tasks on the checklist at …": the list's tasks are the user's).
 */
export function scopeTerms(policy: CompiledPolicy, session: Scope): ReadonlySet<string> {
  const goal = policy.lexicon.goalTerms(session.intent?.goal ?? "");
  const extra = session.delegatedTerms;
  return extra === undefined || extra.length === 0 ? goal : new Set([...goal, ...extra]);
}

export type GoalRelation = "objects" | "verb" | "kind";

/**
 * How the goal relates to a capability: it shares object words with it ("objects"), it uses
 * the tool's own verb ("verb": "message it to Alice" and chat.send_message), or it asks for
 * the same kind of change ("kind": "settle the invoice" and payments.transfer, both egress). Undefined:
 * nothing in the goal points at the tool. Deleting, granting and running are asked for by a
 * verb, never by objects alone ("summarise the repository" does not ask to delete it),
 * unless the user delegated to a source whose orders the session cannot read word by word.
 */
export function goalRelation(policy: CompiledPolicy, session: Scope, capability: string, kind: string | undefined): GoalRelation | undefined {
  const lex = policy.lexicon;
  const tool = policy.tools.get(capability);
  if (
    !namesOtherApplications(policy, session.intent?.goal ?? "", tool?.toolkit) &&
    overlap(scopeTerms(policy, session), tool?.terms ?? lex.objectTerms(capability)).length > 0
  ) {
    return (kind === "delete" || kind === "admin" || kind === "execute") && (session.delegatedTerms?.length ?? 0) === 0
      ? goalAsksTo(policy, session, capability, kind)
      : "objects";
  }
  return goalAsksTo(policy, session, capability, kind);
}

/**
 * scoring.toolkits.namedOnly: whether the goal names applications by words of their names no
 * other application's tools have ("my profile on Twitter"), none of them `toolkit`. Such a
 * goal is about the applications it names: a tool of another one relates to it only by what
 * the goal asks to do, not by an object the two share ("profile").
 */
export function namesOtherApplications(policy: CompiledPolicy, goal: string, toolkit: string | undefined): boolean {
  if (policy.toolkitOwnNames.size === 0 || toolkit === undefined) return false;
  let other = false;
  for (const t of policy.lexicon.goalTerms(goal)) {
    const kit = policy.toolkitOwnNames.get(t);
    if (kit === toolkit) return false;
    if (kit !== undefined) other = true;
  }
  return other;
}

/**
 * What the goal asks to *do* that this tool does, whatever objects the two share: the tool's
 * own verb ("verb") or a verb of the same kind of change ("kind"). Undefined for reads (every
 * tool reads something) and when the goal asks for no such change. goalRelation reports
 * "objects" first when the goal also shares object words with the tool; this does not.
 */
export function goalAsksTo(policy: CompiledPolicy, session: Scope, capability: string, kind: string | undefined): "verb" | "kind" | undefined {
  if (kind === undefined || kind === "read") return undefined;
  const lex = policy.lexicon;
  const goal = session.intent?.goal ?? "";
  const verbs = lex.goalVerbs(goal);
  for (const v of lex.toolVerbs(capability)) if (verbs.stems.has(v)) return "verb";
  // scoring.catalog.ownVerbRelates: the tool's own verb, which the verb table does not know, used by the goal.
  const own = policy.catalog.ownVerbRelates ? policy.tools.get(capability)?.ownVerb : undefined;
  if (own !== undefined && usesVerb(policy, goal, own)) return "verb";
  return verbs.kinds.has(kind as ActionKind) ? "kind" : undefined;
}

/** Whether the goal uses the verb stem `verb` other than with the user as its object ("give me a summary" asks for a summary). */
function usesVerb(policy: CompiledPolicy, goal: string, verb: string): boolean {
  if (!policy.lexicon.tokens(goal).has(verb)) return false;
  const ws = words(goal.slice(0, MAX_TEXT_WORDS));
  const toUser = policy.lexicon.grammar.toUser;
  return ws.some((w, i) => stem(w) === verb && !toUser.has(ws[i + 1] ?? ""));
}

/**
 * Whether the goal asks for this very action: it asks to do what the tool does (goalAsksTo)
 * to something the tool is about — an object word the two share that is no verb ("pay the
 * invoice" and a tool that sends payments; not "book a table" and a tool that books rooms,
 * which share only the verb).
 */
export function goalAsksForAction(policy: CompiledPolicy, session: Scope, capability: string, kind: string | undefined): boolean {
  if (goalAsksTo(policy, session, capability, kind) === undefined) return false;
  const lex = policy.lexicon;
  const tool = policy.tools.get(capability);
  return overlap(scopeTerms(policy, session), tool?.terms ?? lex.objectTerms(capability)).some((t) => !lex.isVerbStem(t));
}
