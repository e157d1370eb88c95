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
  readonly openers: WordSet;
  readonly auxiliaries: WordSet;
  readonly obligation: WordSet;
  readonly you: WordSet;
  readonly modals: WordSet;
}

/** Whether a lower-case word can be a verb in its base form (imperative): the verb table, else the lexicon, else a verb's ending. */
export function isBaseVerb(word: string, verbs: WordSet): boolean {
  if (verbs.has(word)) return true;
  const tags = tagsOf(word);
  if (tags === "") return word.length > 5 && VERB_ENDING.test(word);
  if (NOT_A_VERB_FIRST.has(tags.split("|", 1)[0] as string)) return false;
  return tags === "VB" || tags.startsWith("VB|") || tags.includes("|VB|") || tags.endsWith("|VB");
}

/** Whether a sentence states an obligation (a modal, or "has to" / "needs to"): the tail of an order when one came just before ("The title should be …"). */
export function obliges(words: readonly string[], g: Grammar): boolean {
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    if (g.modals.has(w) || ((w === "has" || w === "have" || w === "needs" || w === "need") && words[k + 1] === "to")) return true;
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
export function moodOf(words: readonly string[], verbs: WordSet, g: Grammar): Mood {
  let i = 0;
  while (i < words.length && g.openers.has(words[i] as string)) i++;
  const first = words[i];
  if (first !== undefined && isBaseVerb(first, verbs) && !g.auxiliaries.has(words[i + 1] ?? "") && !(first === "please" && words.length === 1)) {
    return { directive: true, verbAt: i };
  }
  for (let j = 0; j < words.length; j++) {
    if (!g.you.has(words[j] as string)) continue;
    for (let k = Math.max(0, j - 3); k <= Math.min(words.length - 1, j + 3); k++) {
      const w = words[k] as string;
      if (g.obligation.has(w) || ((w === "have" || w === "has") && words[k + 1] === "to")) return { directive: true };
    }
  }
  return { directive: false };
}
