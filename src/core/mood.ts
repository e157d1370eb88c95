import enLexicon from "en-lexicon";

// The mood of a sentence: does it give an order? Tool outputs are where injected
// instructions reach an agent, and an instruction is a sentence in the imperative ("Send
// the file to…", "Please grant access…") or one that tells its reader what they must do
// ("You need to…", "I want you to…"). Both are told apart by grammar, not by phrases:
// the part of speech of the sentence's first word (from the `en-lexicon` part-of-speech
// lexicon, ~110k words) after the words that may open an order without being it
// (labels, "please", sequencing adverbs, a vocative), and second-person pronouns next to a
// modal of obligation. Closed word classes only: no phrase of any attack is listed here.

const LEXICON: Readonly<Record<string, string>> = enLexicon.lexicon;
const tagsOf = (word: string): string => (Object.hasOwn(LEXICON, word) ? (LEXICON[word] as string) : "");

/** Words that may open an order without being its verb: politeness, sequence, emphasis, greeting. */
const OPENERS = new Set("please kindly also then now first firstly next finally lastly and so just immediately urgently additionally afterwards simply quickly again ok okay hey hi hello dear secondly thirdly".split(" "));
/** Words after which the first word was a subject, not a verb ("Transfer was completed"). */
const AUXILIARIES = new Set("is was are were be been has have had will would can could should may might must shall of 's".split(" "));
/** First tags that rule out a verb even when the lexicon lists one further on ("the" is also tagged VBD). */
const NOT_A_VERB_FIRST = new Set(["DT", "PRP", "PRP$", "IN", "CC", "WDT", "WP", "WP$", "WRB", "MD", "EX", "CD", "PDT", "TO", "UH", "POS", "NNP"]);
/** Obligation addressed to the reader: a modal, "need/want", or "have to" near "you". */
const OBLIGATION = new Set("must should need needs shall ought required want wants".split(" "));
const YOU = new Set(["you", "your", "yourself", "u"]);
/** Endings of verbs missing from the lexicon ("concatenate", "exfiltrate", "anonymize"). */
const VERB_ENDING = /(ate|ize|ise)$/;

/** Any set-like lookup of words (a Set, or a Map keyed by word). */
export interface WordSet {
  has(word: string): boolean;
}

/** Whether a lower-case word can be a verb in its base form (imperative). */
export function isBaseVerb(word: string, extraVerbs: WordSet): boolean {
  if (extraVerbs.has(word)) return true;
  const tags = tagsOf(word);
  if (tags === "") return word.length > 5 && VERB_ENDING.test(word);
  const first = tags.split("|", 1)[0] as string;
  if (NOT_A_VERB_FIRST.has(first)) return false;
  return tags === "VB" || tags.startsWith("VB|") || tags.includes("|VB|") || tags.endsWith("|VB");
}

/** Modals of obligation: in a sentence that follows an order, they go on giving it ("The title should be …"). */
const MODAL = new Set(["should", "must", "shall"]);

/** Whether a sentence states an obligation (a modal, or "has to" / "needs to"): the tail of an order when one came just before. */
export function obliges(words: readonly string[]): boolean {
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    if (MODAL.has(w) || ((w === "has" || w === "have" || w === "needs" || w === "need") && words[k + 1] === "to")) return true;
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
 * dozen words: callers cut long sentences). Labels ("todo:", "note:") must already be
 * removed by the caller; a leading vocative ("assistant,") is passed as `vocative` words.
 */
export function moodOf(words: readonly string[], extraVerbs: WordSet): Mood {
  let i = 0;
  while (i < words.length && OPENERS.has(words[i] as string)) i++;
  const first = words[i];
  if (first !== undefined && isBaseVerb(first, extraVerbs) && !AUXILIARIES.has(words[i + 1] ?? "") && !(i === 0 && first === "please" && words.length === 1)) {
    return { directive: true, verbAt: i };
  }
  for (let j = 0; j < words.length; j++) {
    if (!YOU.has(words[j] as string)) continue;
    for (let k = Math.max(0, j - 3); k <= Math.min(words.length - 1, j + 3); k++) {
      const w = words[k] as string;
      if (OBLIGATION.has(w) || ((w === "have" || w === "has") && words[k + 1] === "to")) return { directive: true };
    }
  }
  return { directive: false };
}
