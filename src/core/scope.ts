import type { ActionKind } from "../protocol/index.js";
import { cachedObjectTerms, KIND_OF_WORD, objectTerms } from "./action-facts.js";
import { looksLikeDestination } from "./destinations.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { SessionState } from "./session-state.js";
import { memoise, overlap, stem, words } from "./text.js";

// How a goal written in words relates to a tool: by what it names (object words shared with
// the tool's name, description and application) or by what it asks to do (its verbs: "pay
// the bill", "refund", "send them the difference" ask for a payment whatever the tool that
// makes one is called). Reads relate by objects only: every tool reads something.

/** The verb table by stem ("paid" and "pays" find "pay"). */
const KIND_OF_STEM = new Map<string, ActionKind>();
for (const [w, k] of KIND_OF_WORD) if (!KIND_OF_STEM.has(stem(w))) KIND_OF_STEM.set(stem(w), k);

export interface GoalVerbs {
  /** Stems of the goal's verbs. */
  readonly stems: ReadonlySet<string>;
  /** Kinds of action they ask for, reads excluded. */
  readonly kinds: ReadonlySet<ActionKind>;
}

/** The verbs of a goal (memoised). */
export const goalVerbs: (goal: string) => GoalVerbs = memoise((goal) => {
  const stems = new Set<string>();
  const kinds = new Set<ActionKind>();
  for (const w of words(goal)) {
    const s = stem(w);
    const k = KIND_OF_WORD.get(w) ?? KIND_OF_STEM.get(s);
    if (k === undefined || k === "read") continue;
    stems.add(s);
    kinds.add(k);
  }
  return { stems, kinds };
});

/** The stems of the verbs in a capability's name (`send_money` → send). Memoised. */
export const toolVerbs: (capability: string) => ReadonlySet<string> = memoise((capability) => new Set(words(capability).filter((w) => KIND_OF_WORD.has(w)).map(stem)));

/** A goal's object stems, its addresses left out: an address is one value, matched whole (goalMentions), not a source of words. Memoised. */
export const goalObjectTerms: (goal: string) => ReadonlySet<string> = memoise((goal) => objectTerms(goal.split(/\s+/).filter((w) => w.length < 6 || !looksLikeDestination(w.replace(/^[^a-z0-9]+|[^a-z0-9/]+$/gi, ""))).join(" ")));

/**
 * What the user asked about: the object stems of the goal, and of the orders in sources the
 * goal delegated to ("do the tasks on my TODO list at …": the list's tasks are the user's).
 */
export function scopeTerms(session: Pick<SessionState, "intent" | "delegatedTerms">): ReadonlySet<string> {
  const goal = goalObjectTerms(session.intent?.goal ?? "");
  const extra = session.delegatedTerms;
  return extra === undefined || extra.length === 0 ? goal : new Set([...goal, ...extra]);
}

export type GoalRelation = "objects" | "verb" | "kind";

/**
 * How the goal relates to a capability: it shares object words with it ("objects"), it uses
 * the tool's own verb ("verb": "send it to Alice" and send_direct_message), or it asks for
 * the same kind of change ("kind": "pay the bill" and send_money, both egress). Undefined:
 * nothing in the goal points at the tool.
 */
export function goalRelation(policy: CompiledPolicy, session: Pick<SessionState, "intent" | "delegatedTerms">, capability: string, kind: string | undefined): GoalRelation | undefined {
  const goal = session.intent?.goal ?? "";
  const tool = policy.tools.get(capability);
  if (overlap(scopeTerms(session), tool?.terms ?? cachedObjectTerms(capability)).length > 0) return "objects";
  if (kind === undefined || kind === "read") return undefined;
  const verbs = goalVerbs(goal);
  for (const v of toolVerbs(capability)) if (verbs.stems.has(v)) return "verb";
  return verbs.kinds.has(kind as ActionKind) ? "kind" : undefined;
}
