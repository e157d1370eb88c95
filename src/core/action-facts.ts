import type { ActionEventT, ActionKind } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { ActionFacts } from "./session-state.js";
import { memoise, stem, tokens, words } from "./text.js";

// What an action is, when the sender did not say: its kind from the event, else the tool
// catalog, else the verbs of its name. Egress with unknown externality counts as external
// (fail-safe: an unlabelled send is treated as leaving the organisation).

/** Words that name an action's kind, most dangerous kind first. The one verb table of Vigil. */
export const KIND_WORDS: readonly [ActionKind, readonly string[]][] = [
  ["egress", ["send", "post", "share", "upload", "transfer", "email", "mail", "publish", "forward", "invite", "pay", "refund", "reimburse", "wire", "export", "notify", "message", "tweet", "reply", "sms"]],
  ["delete", ["delete", "remove", "drop", "purge", "destroy", "erase", "cancel"]],
  ["admin", ["admin", "grant", "role", "permission", "configure", "password", "sudo"]],
  ["execute", ["execute", "run", "exec", "invoke", "deploy", "install", "shell"]],
  ["write", ["create", "update", "write", "set", "add", "edit", "modify", "approve", "submit", "book", "reserve", "schedule", "change", "move", "rename", "append", "request"]],
  ["read", ["get", "list", "read", "search", "find", "view", "fetch", "query", "check", "show", "download", "summarize", "summarise", "lookup", "retrieve", "visit", "see", "browse", "look"]],
];

/** The verb table by word. */
export const KIND_OF_WORD = new Map<string, ActionKind>();
for (const [kind, list] of KIND_WORDS) for (const w of list) if (!KIND_OF_WORD.has(w)) KIND_OF_WORD.set(w, kind);

/** Words that only say what a tool does in a catalog's prose ("Returns the…", "Access the…"). */
const CATALOG_WORDS = new Map<string, ActionKind>([
  ["return", "read"],
  ["access", "admin"],
  ["terminal", "execute"],
  ["command", "execute"],
]);
/** A verb as such or in the third person ("sends"): descriptions say what a tool does. */
const verbKind = (w: string): ActionKind | undefined => KIND_OF_WORD.get(w) ?? CATALOG_WORDS.get(w);
const kindOfVerb = (w: string): ActionKind | undefined => verbKind(w) ?? (w.endsWith("s") ? verbKind(w.slice(0, -1)) : undefined);

/**
 * Words that say how, not what: the read verbs (every tool reads something, so "read the
 * webpage" says nothing about read_channel_messages) and catalog prose. Verbs of change
 * stay: "get it approved" is about expense.approve, "send them the difference" about send_money.
 */
const HOW_WORDS = [...(KIND_WORDS.find(([k]) => k === "read")?.[1] ?? []), ...CATALOG_WORDS.keys(), "given", "specified", "provided", "current", "list"];
const HOW_STEMS = new Set(HOW_WORDS.map(stem));

/** Words of the verb table that are nouns too ("password", "message"): they say what a tool is about. */
const NOUNS = new Set(["admin", "role", "permission", "password", "email", "mail", "message", "sms", "tweet", "shell"]);
/** Every verb of the table, the prose above, and "summary" (any application can summarise): an application is known by its objects alone. */
const VERB_STEMS = new Set([...KIND_WORDS.flatMap(([, list]) => list).filter((w) => !NOUNS.has(w)), ...HOW_WORDS, "summary"].map(stem));

const termsWithout = (text: string, drop: ReadonlySet<string>): Set<string> => {
  const out = tokens(text);
  for (const t of out) if (drop.has(t)) out.delete(t);
  return out;
};

/** The object words of a text (a goal, a tool's name and description): what it is about, not how it acts. */
export const objectTerms = (text: string): Set<string> => termsWithout(text, HOW_STEMS);

/** The nouns of a text: object terms without any verb ("a banking app" is about accounts and transactions, not "send"). */
export const nounTerms = (text: string): Set<string> => termsWithout(text, VERB_STEMS);

/** objectTerms(), memoised: goals repeat on every event of a session, capability names on every call. */
export const cachedObjectTerms: (text: string) => ReadonlySet<string> = memoise(objectTerms);

/**
 * At run time, fail-safe: the most dangerous kind that any word of the capability's name
 * names exactly (plurals are nouns here: `read_channel_messages` reads). Memoised.
 */
export const inferKind: (capability: string) => ActionKind | undefined = memoise((capability) => {
  const named = new Set(words(capability).map((w) => KIND_OF_WORD.get(w)));
  return KIND_WORDS.find(([kind]) => named.has(kind))?.[0];
});

/** For a catalog entry a person reviews: the kind of the first word that is a known verb ("GmailReadEmail" reads). */
export function leadingVerbKind(text: string): ActionKind | undefined {
  for (const w of words(text)) {
    const kind = kindOfVerb(w);
    if (kind) return kind;
  }
  return undefined;
}

export function actionFacts(policy: CompiledPolicy, event: ActionEventT): ActionFacts {
  const tool = policy.tools.get(event.action.capability) ?? (event.action.tool ? policy.tools.get(event.action.tool) : undefined);
  const kind = event.action.kind ?? tool?.kind ?? inferKind(event.action.capability);
  const egress = kind === "egress" || event.resource?.destination !== undefined;
  return {
    ...(kind ? { kind } : {}),
    tags: event.resource?.sensitivity ?? tool?.sensitivity ?? [],
    egress,
    external: egress && event.resource?.external !== false,
  };
}
