import { destinationsInCanonical } from "./reading/destinations.js";
import type { Lexicon } from "./reading/lexicon.js";
import { isNoun, obliges } from "./reading/mood.js";
import { scanOutput } from "./reading/output-scan.js";
import type { ScanOptions } from "./reading/output-scan.js";
import { canonicalText, stem, trimWord } from "./reading/text.js";

// What the texts of a tool's definition tell the agent (its description, its parameters'
// descriptions, its titles), read for the MCP findings of mcp-tools.ts. Descriptions are
// instructions by nature ("Use this tool when…", "Read the complete contents of a file",
// "Each path must be…"): an order alone says nothing. What an honest description does not
// do, and a poisoned one does, is read sentence by sentence, by grammar, with the reader of
// tool outputs (reading/output-scan.ts) deciding whether a sentence gives an order:
//   - it keeps something from the user: a prohibition on telling the user ("do not tell
//     the user", "don't mention this to the user"), or an order to hide something from them;
//   - an order, or an obligation ("all emails must also be sent to…"), names a place outside
//     the call: an e-mail address, an account or phone number, a link it sends to (not one a
//     tool reads from: "Get the forecast from api.weather.gov" is what a weather tool does),
//     a file path in the home directory, a hidden one or the system's configuration
//     (`~/.ssh/id_rsa`, not `/tmp/work`); unless the text gives it as an example ("e.g. …");
//   - an order or an obligation names a tool of another server (shadowing).
// The word classes below are closed and name no attack's phrase. The texts are hostile: each
// is read once, linearly, within its contract cap, and nothing of it is kept but the verdict.

/** Who the agent answers to: the person a description must not keep anything from. */
const PERSON = new Set(["user", "users", "human", "humans", "person", "people", "anyone", "anybody"]);
/** Verbs of telling (stems): a prohibition on these towards the person keeps something from them. */
const TELL = new Set(["tell", "mention", "inform", "notify", "reveal", "disclose", "say", "show", "report", "explain", "alert", "warn", "let"].map(stem));
/** Verbs of hiding (stems): an order to do this "from" the person. */
const HIDE = new Set(["hide", "conceal", "withhold", "keep", "omit"].map(stem));
/** Words that give what follows as an example, not as a place to act on ("e.g.", "such as"). */
const EXAMPLE = new Set(["e.g", "eg", "i.e", "ie", "example", "examples", "like", "sample"]);

/** A phone number written as one token (`+13241234123`). */
const PHONE = /^\+\d{7,15}$/;
/** A file path: absolute, from the home directory, relative to the working directory, or from a variable; never a pattern (`**` / `*.ext`). */
const PATH = /^(?:~|\.{1,2}|\$[A-Za-z_]\w*|%[A-Za-z_]\w*%|[A-Za-z]:)?[\\/][^\s*?]*\w$/;
/** A path that reaches past the call's own files: the home directory, a hidden file or folder, the system's configuration. */
const PRIVATE_PATH = /^(?:~|\$HOME\b|%(?:USERPROFILE|APPDATA|HOMEPATH)%)|[\\/]\.[^./\\]|^\/(?:etc|root|proc)\//i;
/** Prepositions a link is sent to by ("post the results to https://…"). */
const TOWARDS = new Set(["to", "into", "onto", "toward", "towards"]);
const IBAN_LIKE = /^[a-z]{2}\d{2}[a-z0-9]{10,30}$/i;
/** What ends a clause at the end of a token. */
const CLAUSE_END = /[,;:(]$/;

/** A tool the texts may name: another server's, by its listed name or the name its own server gave it. */
export interface NamedTool {
  readonly name: string;
  readonly server: string;
}

export interface TextReader {
  readonly lexicon: Lexicon;
  /** The reader of tool outputs' options: whether a sentence gives an order is its call. */
  readonly scan: ScanOptions;
  /** The other servers' tool a token names (lower case; `quoted` when the text quoted it), if any. */
  readonly otherTool: (token: string, quoted: boolean) => NamedTool | undefined;
  /** Whether each sentence read so far binds the agent (bounded; one listing's readers share it). */
  readonly binding?: Map<string, boolean>;
}

/** What one text of a tool does, when it does any of it (the first sentence that does decides). */
export interface TextReading {
  readonly concealment: boolean;
  /** The first place outside the call an order or an obligation names. */
  readonly place?: string;
  /** The first other server's tool an order or an obligation names. */
  readonly named?: NamedTool;
}

/**
 * The sentences of a text: paragraphs at blank lines; the lines of a paragraph joined (texts
 * are wrapped at a width), except that a line opening with a list marker or a tag starts a
 * sentence; then cut after . ! ? before a capital (so "e.g. https://…" stays whole) and after ;.
 */
export function sentencesOf(text: string): string[] {
  const out: string[] = [];
  let current = "";
  const flush = () => {
    cut(current, out);
    current = "";
  };
  for (const raw of canonicalText(text).split("\n")) {
    const line = raw.trim();
    if (line === "") flush();
    else {
      if (/^([-*•<]|\d{1,3}[.)]\s)/.test(line)) flush();
      current = current === "" ? line : `${current} ${line}`;
    }
  }
  flush();
  return out;
}

function cut(paragraph: string, out: string[]): void {
  let start = 0;
  for (let i = 0; i < paragraph.length; i++) {
    const c = paragraph[i];
    if (c !== "." && c !== "!" && c !== "?" && c !== ";") continue;
    if (paragraph[i + 1] !== " ") continue;
    if (c !== ";" && !/[A-Z<("'`*-]/.test(paragraph[i + 2] ?? "")) continue;
    const s = paragraph.slice(start, i + 1).trim();
    if (s !== "") out.push(s);
    start = i + 1;
  }
  const rest = paragraph.slice(start).trim();
  if (rest !== "") out.push(rest);
}

const OPENING = new Set([..."(\"'`<[{*"]);
const CLOSING = new Set([...")\"'`>]}.,;:!?*"]);
/** A token without the punctuation, quotes and brackets around it (two loops: a pattern would backtrack on a long run of them). */
function bare(token: string): string {
  let a = 0;
  let b = token.length;
  while (a < b && OPENING.has(token[a] as string)) a++;
  while (b > a && CLOSING.has(token[b - 1] as string)) b--;
  return token.slice(a, b);
}
const wordOf = (token: string): string => trimWord(token.toLowerCase()).replace(/'s$/, "");

/** Whether the person is named from `from` on in the clause, as who is addressed (not "user input"). */
function namesPerson(words: readonly string[], from: number): boolean {
  for (let k = from; k < words.length; k++) {
    if (!PERSON.has(words[k] as string)) continue;
    const next = words[k + 1];
    if (next === undefined || !isNoun(next)) return true;
  }
  return false;
}

/** Whether a clause keeps something from the person: "do not tell the user", "never mention it to anyone", "keep this from the user", "without telling the user". */
function conceals(words: readonly string[], r: TextReader): boolean {
  const g = r.lexicon.grammar;
  let i = 0;
  while (i < words.length && g.openers.has(words[i] as string)) i++;
  const first = words[i] ?? "";
  const verbAt = first === "do" && g.negators.has(words[i + 1] ?? "") ? i + 2 : g.negators.has(first) ? i + 1 : -1;
  if (verbAt >= 0 && TELL.has(stem(words[verbAt] ?? ""))) return namesPerson(words, verbAt + 1);
  if (HIDE.has(stem(first))) {
    const from = words.indexOf("from", i + 1);
    if (from > 0) return namesPerson(words, from + 1);
  }
  const without = words.indexOf("without");
  return without >= 0 && TELL.has(stem(words[without + 1] ?? "")) && namesPerson(words, without + 2);
}

/**
 * The first place outside the call the tokens name, skipping those given as examples:
 * e-mail addresses, account and phone numbers, private paths, and links the sentence sends
 * to (after "to", or in a sentence with a verb of sending).
 */
function placeIn(tokens: readonly string[], words: readonly string[], r: TextReader): string | undefined {
  let sends: boolean | undefined;
  for (let j = 0; j < tokens.length; j++) {
    const previous = wordOf(tokens[j - 1] ?? "");
    if (EXAMPLE.has(previous) || (previous === "as" && wordOf(tokens[j - 2] ?? "") === "such")) continue;
    const token = bare(tokens[j] as string);
    if (token.length < 3) continue;
    if (PHONE.test(token)) return token;
    if (PATH.test(token)) {
      if (PRIVATE_PATH.test(token)) return token;
      continue;
    }
    const found = destinationsInCanonical(token, r.lexicon, { left: token.length })[0];
    if (found === undefined) continue;
    if (found.includes("@") || IBAN_LIKE.test(found)) return found;
    sends ??= words.some((w) => r.lexicon.kindOfWord.get(w) === "egress");
    if (sends || TOWARDS.has(previous)) return found;
  }
  return undefined;
}

/** The first other server's tool the tokens name. */
function toolIn(tokens: readonly string[], r: TextReader): NamedTool | undefined {
  for (const token of tokens) {
    const name = bare(token).toLowerCase();
    if (name.length < 2) continue;
    const named = r.otherTool(name, /^\(?[`'"]/.test(token));
    if (named !== undefined) return named;
  }
  return undefined;
}

/** Whether a sentence gives an order (the reader of tool outputs says) or states an obligation ("… must be sent to …"). */
function binds(sentence: string, words: readonly string[], r: TextReader): boolean {
  if (obliges(words, r.lexicon.grammar)) return true;
  const known = r.binding?.get(sentence);
  if (known !== undefined) return known;
  const order = scanOutput(sentence, { ...r.scan, maxChars: sentence.length }).directives.length > 0;
  if (r.binding !== undefined && r.binding.size < MAX_REMEMBERED) r.binding.set(sentence, order);
  return order;
}
/** Sentences whose verdict a reader remembers (a listing repeats its sentences across tools). */
const MAX_REMEMBERED = 1_024;

type Wanted = { readonly poisoning: boolean; readonly shadowing: boolean };

/** Reads one sentence for what is still `wanted`. */
function readSentence(sentence: string, r: TextReader, wanted: Wanted): TextReading | undefined {
  const tokens = sentence.split(/\s+/);
  const words: string[] = [];
  let concealment = false;
  let clause: string[] = [];
  for (const token of tokens) {
    const w = wordOf(token);
    if (w !== "") {
      words.push(w);
      clause.push(w);
    }
    if (CLAUSE_END.test(token)) {
      concealment ||= conceals(clause, r);
      clause = [];
    }
  }
  concealment ||= conceals(clause, r);
  // A place or another server's tool counts only in a sentence that binds the agent: read
  // for those first, and ask the reader of orders only when there is one (most sentences have none).
  let place = wanted.poisoning ? placeIn(tokens, words, r) : undefined;
  let named = wanted.shadowing ? toolIn(tokens, r) : undefined;
  if ((place !== undefined || named !== undefined) && !binds(sentence, words, r)) place = named = undefined;
  if (!concealment && place === undefined && named === undefined) return undefined;
  return { concealment, ...(place !== undefined ? { place } : {}), ...(named !== undefined ? { named } : {}) };
}

/**
 * Reads one text of a tool; undefined when it does nothing of the above. It stops once it
 * has found what `wanted` asks for (a poisoning, a shadowing): the rest of the text cannot
 * change the findings.
 */
export function readToolText(text: string, r: TextReader, wanted: Wanted = { poisoning: true, shadowing: true }): TextReading | undefined {
  let found: { concealment: boolean; place?: string; named?: NamedTool } | undefined;
  for (const sentence of sentencesOf(text)) {
    const s = readSentence(sentence, r, {
      poisoning: wanted.poisoning && !(found?.concealment === true || found?.place !== undefined),
      shadowing: wanted.shadowing && found?.named === undefined,
    });
    if (s === undefined) continue;
    found ??= { concealment: false };
    found.concealment ||= s.concealment;
    if (found.place === undefined && s.place !== undefined) found.place = s.place;
    if (found.named === undefined && s.named !== undefined) found.named = s.named;
    if ((!wanted.poisoning || found.concealment || found.place !== undefined) && (!wanted.shadowing || found.named !== undefined)) break;
  }
  return found;
}
