import { eng } from "stopword";
import type { ActionKind, CompleteScoring } from "../../protocol/index.js";
import { MAX_TEXT_WORDS, memoise, stem, trimWord, words } from "./text.js";
import type { GoalText } from "./destinations.js";
import { type CalendarDate, dateValue, datesIn, monthTable, sameDate } from "./dates.js";

// The words Vigil reads goals, tool names, arguments and tool outputs with, built once per
// policy from `scoring.words` (the default policy holds every list; docs/policy.md). Word
// stems come from the maintained `stemmer` package (Porter), stop words from `stopword`'s
// English list plus the policy's. Everything derived from a text is memoised per lexicon in
// bounded maps: goals and capability names repeat on every event.

export type Words = CompleteScoring["words"];

const KIND_ORDER: readonly ActionKind[] = ["egress", "delete", "admin", "execute", "write", "read"];
/** The words that join the verbs of a list ("create, update, and delete", "AddOrUpdate"). */
const LIST_JOINS: ReadonlySet<string> = new Set([",", "and", "or"]);

export interface GoalVerbs {
  /** Stems of the goal's verbs of change. */
  readonly stems: ReadonlySet<string>;
  /** Kinds of change they ask for (reads excluded). */
  readonly kinds: ReadonlySet<ActionKind>;
}

export interface Lexicon {
  /** The verb table, most dangerous kind first. */
  readonly verbTable: readonly (readonly [ActionKind, readonly string[]])[];
  /** Verb table by word (the most dangerous kind a word names). */
  readonly kindOfWord: ReadonlyMap<string, ActionKind>;
  readonly grammar: Readonly<Record<keyof Words["grammar"], ReadonlySet<string>>>;
  readonly sensitivity: Readonly<Record<string, readonly string[]>>;
  readonly highSensitivity: ReadonlySet<string>;
  readonly linkTlds: ReadonlySet<string>;
  readonly notNames: ReadonlySet<string>;
  readonly notValues: ReadonlySet<string>;
  /** scoring.outputs.addressLists: a value written as an address list names its addresses. */
  readonly addressLists: boolean;
  /** Lower-case word stems of a text without stop words. */
  tokens(text: string): ReadonlySet<string>;
  /** What a text (a goal, a tool's name and description) is about: its stems without the words that say how. Memoised. */
  objectTerms(text: string): ReadonlySet<string>;
  /** Its nouns: object terms without any verb of the table. */
  nounTerms(text: string): ReadonlySet<string>;
  /** Whether a word is a noun as much as a verb (words.nounVerbs: "message", "tweet"). */
  isNounVerb(word: string): boolean;
  /** Whether a stem is a verb of the table (not one of its nouns, "message") or a word that says how. */
  isVerbStem(term: string): boolean;
  /** A goal's object terms with its addresses left out (an address is one value, matched whole). Memoised. */
  goalTerms(goal: string): ReadonlySet<string>;
  /** The verbs of change of a goal. Memoised. */
  goalVerbs(goal: string): GoalVerbs;
  /** The stems of the verbs in a capability's name (`transfer_funds` → transfer). Memoised. */
  toolVerbs(capability: string): ReadonlySet<string>;
  /** At run time, fail-safe: the most dangerous kind any word of the capability's name names exactly. Memoised. */
  inferKind(capability: string): ActionKind | undefined;
  /** For a catalog entry: the kind of the first word that is a known verb, also in the third person ("Sends…"). */
  leadingVerbKind(text: string): ActionKind | undefined;
  /**
   * For a catalog entry whose text opens with a list of verbs ("List, create, update, and
   * delete…", "AddOrUpdate…"): the most dangerous kind among the verbs of that list; else as
   * leadingVerbKind.
   */
  leadingVerbListKind(text: string): ActionKind | undefined;
  /** Whether an argument name carries a destination (matched without "_"/"-" and a plural "s"/"es"). */
  isDestinationArg(name: string): boolean;
  /** Whether the goal hands the agent the orders of a source it names (see delegation). Memoised. */
  delegates(goal: string): boolean;
  /** A goal lower-cased, compacted and split, for goalMentions. Memoised. */
  goalText(goal: string): GoalText;
  /** scoring.outputs.dates: whether a whole value is a calendar date the goal writes, in words or in ISO form (false with the knob off). */
  goalDate(goal: string, value: string): boolean;
}

const set = (list: readonly string[]) => new Set(list.map((w) => w.toLowerCase()));
/** Goals held by each goal-keyed memo at most (a goal is up to 16 KB: count bounds memory too). */
const GOAL_MEMO = 256;

export function buildLexicon(
  w: Words,
  looksLikeAddress: (word: string) => boolean,
  goalText: (goal: string) => GoalText,
  addressLists = false,
  dates = false,
): Lexicon {
  const verbTable = KIND_ORDER.map((k) => [k, w.verbs[k].map((x) => x.toLowerCase())] as const);
  const kindOfWord = new Map<string, ActionKind>();
  for (const [kind, list] of verbTable) for (const v of list) if (!kindOfWord.has(v)) kindOfWord.set(v, kind);
  const kindOfStem = new Map<string, ActionKind>();
  for (const [v, k] of kindOfWord) if (!kindOfStem.has(stem(v))) kindOfStem.set(stem(v), k);
  const catalogVerbs = new Map(Object.entries(w.catalogVerbs).map(([k, v]) => [k.toLowerCase(), v]));
  const stop = new Set([...eng, ...set(w.stopWords)]);
  const readVerbs = verbTable.find(([k]) => k === "read")?.[1] ?? [];
  const how = new Set([...readVerbs, ...catalogVerbs.keys(), ...set(w.howWords)].map(stem));
  const nounVerbs = set(w.nounVerbs);
  const verbStems = new Set(
    [...verbTable.flatMap(([, l]) => l).filter((v) => !nounVerbs.has(v)), ...readVerbs, ...catalogVerbs.keys(), ...set(w.howWords)].map(stem),
  );
  const destinationArgs = set(w.destinationArgs);
  const d = {
    carryOut: set(w.delegation.carryOut),
    orders: set(w.delegation.orders),
    sourceSays: set(w.delegation.sourceSays),
    pointers: set(w.delegation.pointers),
    ownList: set(w.delegation.ownList),
  };

  const tokens = (text: string): Set<string> => {
    const out = new Set<string>();
    for (const x of words(text)) if (!stop.has(x)) out.add(stem(x));
    return out;
  };
  const without = (text: string, drop: ReadonlySet<string>): Set<string> => {
    const out = tokens(text);
    for (const t of out) if (drop.has(t)) out.delete(t);
    return out;
  };
  const verbKind = (x: string): ActionKind | undefined => kindOfWord.get(x) ?? catalogVerbs.get(x);
  const objectTerms = memoise((text: string) => without(text, how));
  const months = monthTable(w.months);
  const memoGoalText = memoise(goalText, GOAL_MEMO);
  const goalDates = memoise((goal: string): readonly CalendarDate[] => datesIn(memoGoalText(goal).lower, months), GOAL_MEMO);
  const lexicon: Lexicon = {
    verbTable,
    kindOfWord,
    grammar: Object.fromEntries(Object.entries(w.grammar).map(([k, list]) => [k, set(list)])) as unknown as Lexicon["grammar"],
    sensitivity: Object.fromEntries(Object.entries(w.sensitivity).map(([tag, list]) => [tag, list.map((x) => x.toLowerCase())])),
    highSensitivity: set(w.highSensitivity),
    linkTlds: set(w.linkTlds),
    notNames: set(w.notNames),
    notValues: set(w.notValues),
    addressLists,
    tokens: memoise(tokens, GOAL_MEMO),
    goalText: memoGoalText,
    goalDate: (goal, value) => {
      if (!dates || !/\d/.test(value)) return false;
      const d = dateValue(value, months);
      return d !== undefined && goalDates(goal).some((g) => sameDate(g, d));
    },
    objectTerms,
    nounTerms: (text) => without(text, verbStems),
    isVerbStem: (term) => verbStems.has(term),
    isNounVerb: (word) => nounVerbs.has(word.toLowerCase()),
    goalTerms: memoise(
      (goal) =>
        objectTerms(
          goal
            .slice(0, MAX_TEXT_WORDS)
            .split(/\s+/)
            .filter((x) => x.length < 6 || !looksLikeAddress(trimWord(x, true)))
            .join(" "),
        ),
      GOAL_MEMO,
    ),
    goalVerbs: memoise((goal) => {
      const stems = new Set<string>();
      const kinds = new Set<ActionKind>();
      for (const x of words(goal)) {
        const s = stem(x);
        const k = kindOfWord.get(x) ?? kindOfStem.get(s);
        if (k === undefined || k === "read") continue;
        stems.add(s);
        kinds.add(k);
      }
      return { stems, kinds };
    }, GOAL_MEMO),
    toolVerbs: memoise(
      (capability) =>
        new Set(
          words(capability)
            .filter((x) => kindOfWord.has(x))
            .map(stem),
        ),
    ),
    inferKind: memoise((capability) => {
      const named = new Set(words(capability).map((x) => kindOfWord.get(x)));
      return KIND_ORDER.find((k) => named.has(k));
    }),
    leadingVerbKind(text) {
      for (const x of words(text)) {
        const kind = verbKind(x) ?? (x.endsWith("s") ? verbKind(x.slice(0, -1)) : undefined);
        if (kind) return kind;
      }
      return undefined;
    },
    leadingVerbListKind(text) {
      const kindOf = (x: string) => verbKind(x) ?? (x.endsWith("s") ? verbKind(x.slice(0, -1)) : undefined);
      // Words with the commas kept between them: a list's verbs are joined by a comma, "and" or "or".
      const ws = text
        .slice(0, MAX_TEXT_WORDS)
        .split(",")
        .flatMap((part, k) => (k === 0 ? words(part) : [",", ...words(part)]));
      const start = ws.findIndex((x) => kindOf(x) !== undefined);
      if (start < 0) return undefined;
      const kinds = new Set<ActionKind>([kindOf(ws[start] as string) as ActionKind]);
      let joined = false;
      for (const x of ws.slice(start + 1)) {
        if (LIST_JOINS.has(x)) joined = true;
        else if (!joined || nounVerbs.has(x)) break;
        else {
          const kind = kindOf(x);
          if (kind === undefined) break;
          kinds.add(kind);
          joined = false;
        }
      }
      return KIND_ORDER.find((k) => kinds.has(k));
    },
    isDestinationArg(name) {
      const n = name.toLowerCase().replace(/[_-]/g, "");
      return destinationArgs.has(n) || (n.endsWith("s") && destinationArgs.has(n.slice(0, -1))) || (n.endsWith("es") && destinationArgs.has(n.slice(0, -2)));
    },
    // Delegation ("follow the instructions in notes.txt", "do the tasks on the checklist
    // at …", "do the actions specified in the email from …"): a verb of carrying out
    // whose object, within a few words, is a word for orders not modified by a word pointing
    // at the goal's own list ("the following tasks"); or "what X asks/says".
    delegates: memoise((goal) => {
      const g = words(goal);
      for (let i = 0; i < g.length; i++) {
        const x = g[i] as string;
        if (d.sourceSays.has(x) && i > 0 && g.slice(Math.max(0, i - 4), i).some((y) => d.pointers.has(y))) return true;
        if (!d.carryOut.has(x)) continue;
        for (let j = i + 1; j <= Math.min(g.length - 1, i + 5); j++) {
          const next = g[j] as string;
          if (d.ownList.has(next)) break;
          if (d.orders.has(next)) return true;
          if (d.pointers.has(next) && g.slice(j + 1, j + 6).some((y) => d.sourceSays.has(y))) return true;
        }
      }
      return false;
    }, GOAL_MEMO),
  };
  return lexicon;
}
