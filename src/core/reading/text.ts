import { stemmer } from "stemmer";

// Lexical helpers: words of identifiers and prose, Porter stems (the maintained `stemmer`
// package), overlap of term sets, and a bounded memo. The word lists live in the policy
// (`scoring.words`) and are applied by the lexicon (lexicon.ts).

/** Porter stem: "approved", "approving" and "approves" become one token, "reports" becomes "report". */
export const stem = (word: string): string => stemmer(word);

/** Characters of a text that are split into words: goals and descriptions longer than this are judged on their start. */
export const MAX_TEXT_WORDS = 4096;

/** Splits identifiers and prose: `getUserInfo`, `transfer_funds`, `expense.approve`, "Pay the invoice", `HRISManage`. */
export function words(text: string): string[] {
  return text
    .slice(0, MAX_TEXT_WORDS)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1);
}

/** Zero-width and invisible format characters: they hide nothing from a human reader and everything from a pattern. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/** Text as Vigil compares it: compatibility forms folded (full-width letters, ligatures: NFKC), invisible characters removed. Linear. */
export const canonicalText = (text: string): string => (NON_ASCII.test(text) ? text.normalize("NFKC").replace(INVISIBLE, "") : text);
/** ASCII is its own NFKC form and holds no invisible character: most text needs neither pass. */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * `s.toLowerCase()`, without the copy V8 makes even when nothing changes: a string of ASCII
 * without a capital is returned as it is.
 */
export function lowerCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return s.toLowerCase();
  }
  return s;
}

/** Whether `s.replace(/\s+/g, " ")` would change it: white space other than one plain space between other characters. */
function oddSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      if (i + 1 < s.length && isSpace(s.charCodeAt(i + 1))) return true;
    } else if (isSpace(c)) return true;
  }
  return false;
}

/** `s.replace(/\s+/g, " ")`: runs of white space made one space; the string itself when there is nothing to replace. */
export const singleSpaced = (s: string): string => (oddSpace(s) ? s.replace(/\s+/g, " ") : s);

/** \s as a regex reads it, by character code (ASCII and the Unicode spaces). */
export const isSpace = (c: number): boolean => (c <= 32 ? c === 32 || (c >= 9 && c <= 13) : c >= 0xa0 && isWideSpace(c));
const isWideSpace = (c: number): boolean =>
  c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * A word without the punctuation around it: leading characters that are not letters or
 * digits, trailing ones that are not letters, digits or (with `slash`) "/". Linear, unlike
 * the equivalent anchored regex, which backtracks quadratically on a long run of punctuation.
 */
export function trimWord(word: string, slash = false): string {
  let a = 0;
  let b = word.length;
  while (a < b && !isAlnum(word.charCodeAt(a))) a++;
  while (b > a && !(isAlnum(word.charCodeAt(b - 1)) || (slash && word.charCodeAt(b - 1) === 47))) b--;
  return a === 0 && b === word.length ? word : word.slice(a, b);
}

export function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): string[] {
  const shared: string[] = [];
  for (const t of a) if (b.has(t)) shared.push(t);
  return shared;
}

/**
 * A pure function of a string, memoised in a bounded map (cleared when full): goals and
 * capability names repeat on every event. Results are shared: callers must not mutate them.
 */
export function memoise<T>(fn: (text: string) => T, max = 2_000): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (cache.has(text)) return cache.get(text) as T;
    if (cache.size >= max) cache.clear();
    const value = fn(text);
    cache.set(text, value);
    return value;
  };
}

/** The longest string interned; the table holds at most 8,192 (cleared when full, like memoise). */
const MAX_INTERNED_CHARS = 256;
const interned = memoise((text: string) => text, 8_192);

/**
 * One shared copy of a string that many sessions keep (agent and principal ids, capability
 * names): each decoded event brings its own copy, and a session would keep it for its
 * lifetime. Returns an equal string.
 */
export const intern = (text: string): string => (text.length > MAX_INTERNED_CHARS ? text : interned(text));
