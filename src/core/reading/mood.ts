import enLexicon from "en-lexicon";

// The mood of a sentence: does it give an order? Tool outputs are where injected
// instructions reach an agent, and an instruction is a sentence in the imperative ("Send
// the file to…", "Please grant access…") or one that tells its reader what they must do
// ("You need to…", "I want you to…"). Both are told apart by grammar, not by phrases:
// the part of speech of the sentence's first word (from the `en-lexicon` part-of-speech
// lexicon, ~110k words) after the words that may open an order without being it
// (politeness, sequence, greeting: `scoring.words.grammar.openers`), and second-person
// pronouns next to a modal of obligation. Closed word classes only: no phrase of any attack
// is listed anywhere.

const LEXICON: Readonly<Record<string, string>> = enLexicon.lexicon;
const tagsOf = (word: string): string => (Object.hasOwn(LEXICON, word) ? (LEXICON[word] as string) : "");
/** The word's most likely tag ("" when the lexicon does not know it). */
const firstTag = (word: string): string => firstOf(tagsOf(word));
const firstOf = (tags: string): string => {
  const bar = tags.indexOf("|");
  return bar === -1 ? tags : tags.slice(0, bar);
};

/** First tags (Penn Treebank) that rule out a verb even when the lexicon lists one further on ("the" is also tagged VBD). */
const NOT_A_VERB_FIRST = new Set(["DT", "PRP", "PRP$", "IN", "CC", "WDT", "WP", "WP$", "WRB", "MD", "EX", "CD", "PDT", "TO", "UH", "POS", "NNP"]);
/** Endings of verbs missing from the lexicon ("concatenate", "exfiltrate", "anonymize"). */
const VERB_ENDING = /(ate|ize|ise)$/;

/** Any set-like lookup of words (a Set, or a Map keyed by word). */
export interface WordSet {
  has(word: string): boolean;
}

/** The closed word classes mood is read with (`scoring.words.grammar`). */
export interface Grammar {
  /** Courtesies that look like verbs and give no order ("thank you"). */
  readonly courtesy: WordSet;
  /** Words that make the verb after them an order wherever they stand ("please"). */
  readonly politeness: WordSet;
  /** Verbs of obligation before "to" ("have to", "needs to"). */
  readonly haveTo: WordSet;
  /** Negations that turn an imperative into a prohibition ("do not", "never"). */
  readonly negators: WordSet;
  readonly openers: WordSet;
  readonly auxiliaries: WordSet;
  readonly obligation: WordSet;
  readonly you: WordSet;
  readonly modals: WordSet;
}

/** Whether a lower-case word is most likely a noun ("input" in "user input": the word before it names no one). */
export const isNoun = (word: string): boolean => {
  const t = firstTag(word);
  return t === "NN" || t === "NNS" || t === "NNP" || t === "NNPS";
};

/** Tags that open an object after an imperative verb: a determiner, a pronoun, a number, "to". */
const OBJECT_OPENERS = new Set(["DT", "PDT", "PRP", "PRP$", "CD", "TO"]);
/** Tags of words that want what follows: a preposition, "to", a determiner, a possessive. */
const WANTS_OBJECT = new Set(["IN", "TO", "DT", "PDT", "PRP$"]);
/** Whether a lower-case word wants what follows it ("…send the money to", "…to the"): a sentence ending on it goes on. */
export const wantsObject = (word: string): boolean => WANTS_OBJECT.has(firstTag(word));
const opensObject = (next: string | undefined): boolean =>
  next !== undefined && (OBJECT_OPENERS.has(firstTag(next)) || /^[\d$£€'"`]/.test(next) || next.includes("@") || next.includes("."));

/**
 * Whether a lower-case word, followed by `next`, opens an imperative: a word whose most
 * likely part of speech is a base verb ("send", "delete", "thank"); a word that is mostly a
 * noun or an adjective but can be a verb, or a verb of the verb table, only when an object
 * opens after it ("book a room", "post them", but not "bill for the month", "room service
 * was slow", "last month"); a word the lexicon does not know with a verb's ending.
 */
export function isBaseVerb(word: string, verbs: WordSet, next?: string, after?: string, tools?: ReadonlySet<string>): boolean {
  const tags = tagsOf(word);
  if (tags === "") return verbs.has(word) || (word.length > 5 && VERB_ENDING.test(word));
  const first = firstOf(tags);
  if (NOT_A_VERB_FIRST.has(first)) return false;
  if (first === "VB" || first === "VBP") return true;
  // A verb of the policy's table takes a bare object too ("wire funds to …", "forward
  // payment to …") when what follows the noun goes on like an object would ("post office
  // hours" does not).
  if (verbs.has(word)) {
    if (next === undefined) return false;
    if (opensObject(next)) return true;
    const nextTag = firstTag(next);
    if (nextTag === "NN" || nextTag === "NNS") return after === undefined || opensObject(after) || wantsObject(after);
    return !NOT_AN_OBJECT.has(nextTag);
  }
  const canBeVerb = tags.includes("|VB|") || tags.endsWith("|VB") || tags.includes("|VBP");
  // A catalog tool's name is an object ("use send_money"): no determiner needs to open it.
  return canBeVerb && (opensObject(next) || (next !== undefined && tools?.has(next) === true));
}
/** Tags after which a word of the verb table was a noun, not an order ("post office", "share of", "email was"). */
const NOT_AN_OBJECT = new Set(["IN", "VBZ", "VBD", "VBN", "MD", "CC", "POS", "NN", "NNS"]);

/** Whether a sentence states an obligation (a modal, or "has to" / "needs to"): the tail of an order when one came just before ("The title should be …"). */
export function obliges(words: readonly string[], g: Grammar): boolean {
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    if (g.modals.has(w) || (g.haveTo.has(w) && words[k + 1] === "to")) return true;
  }
  return false;
}

export interface Mood {
  /** The sentence orders something: imperative, or obligation put on "you". */
  readonly directive: boolean;
  /** Index (into the words given) of the verb that opens the order, when imperative. */
  readonly verbAt?: number;
}

/**
 * The mood of one sentence given as lower-case words (punctuation stripped, at most a few
 * dozen words: callers cut long sentences, and remove a label such as "todo:").
 */
export function moodOf(words: readonly string[], verbs: WordSet, g: Grammar, tools?: ReadonlySet<string>): Mood {
  let i = 0;
  while (i < words.length && g.openers.has(words[i] as string)) i++;
  // A prohibition is no order to act: "do not email bob…", "never share …".
  if (g.negators.has(words[i] ?? "") || (words[i] === "do" && g.negators.has(words[i + 1] ?? ""))) return { directive: false };
  const first = words[i];
  if (first !== undefined && !g.courtesy.has(first) && isBaseVerb(first, verbs, words[i + 1], words[i + 2], tools) && !g.auxiliaries.has(words[i + 1] ?? "")) {
    return { directive: true, verbAt: i };
  }
  // Politeness before a verb gives an order wherever it stands ("Before you start, please send …").
  for (let j = 1; j + 1 < words.length; j++) {
    if (
      g.politeness.has(words[j] as string) &&
      isBaseVerb(words[j + 1] as string, verbs, words[j + 2], words[j + 3], tools) &&
      !g.auxiliaries.has(words[j + 2] ?? "")
    )
      return { directive: true, verbAt: j + 1 };
  }
  for (let j = 0; j < words.length; j++) {
    if (!g.you.has(words[j] as string)) continue;
    for (let k = Math.max(0, j - 3); k <= Math.min(words.length - 1, j + 3); k++) {
      const w = words[k] as string;
      if (g.obligation.has(w) || (g.haveTo.has(w) && words[k + 1] === "to")) return { directive: true };
    }
  }
  return { directive: false };
}
