import type { ActionKind } from "../../protocol/index.js";
import type { DestinationWords } from "./destinations.js";
import { addressList, destinationsInCanonical, looksLikeDestination } from "./destinations.js";
import type { Grammar } from "./mood.js";
import { moodOf, obliges, wantsObject } from "./mood.js";
import { layoutLiteral } from "./literal.js";
import { asValue, MAX_VALUE_CHARS } from "./values.js";
import { canonicalText, isSpace, lowerCase, trimWord } from "./text.js";

// Reading a tool's output as a gateway hands it over, in one linear pass: which values it
// carries as whole structured fields (a transaction's recipient, a mail's sender, the
// members of a channel: the user's data) and which only inside prose, and which of its
// sentences give orders. The text is hostile: every loop is linear in the characters read,
// at most `maxChars` of them, with no backtracking pattern run on it, and everything kept is
// bounded. The output itself is never stored; only the values and terms below are.

export interface Directive {
  /** Values the sentence names: addresses, quoted strings, identifiers, digit ids, proper names (normalised). */
  readonly values: readonly string[];
  /** The sentence named more values than an order keeps (`outputs.orderValues`): some were dropped. */
  readonly overflow: boolean;
  /**
   * The lines (first, last) of the passage the order stands in: the lines around it indented
   * at least as deep, blank ones included. A whole document for plain text; the body of one
   * field for a record whose field holds the text; the value of the field (its line and the
   * lines indented deeper) for an order written on a nested record's "key:" line.
   */
  readonly block: readonly [number, number];
  /** Values of the structure the sentence introduces with a colon (also among the fields). */
  readonly attached: readonly string[];
  /** Lower-case words of the sentence (at most MAX_SENTENCE_WORDS): the caller derives terms. */
  readonly words: readonly string[];
  /** Action kinds of the verbs in the sentence (from the verb table). */
  readonly kinds: readonly ActionKind[];
  /** Catalog capabilities the sentence names literally (`transfer_funds`). */
  readonly tools: readonly string[];
}

/** A whole structured field and the line it stands on. */
export interface Field {
  readonly value: string;
  readonly line: number;
}

export interface OutputScan {
  /** Whole structured fields that can name someone or something (normalised). */
  readonly fields: readonly Field[];
  /** Addresses, links and accounts inside prose that gives no order (normalised). */
  readonly prose: readonly string[];
  /** Sentences in the imperative or telling "you" what to do. */
  readonly directives: readonly Directive[];
}

export interface ScanOptions {
  /** Characters of the output read at most. */
  readonly maxChars: number;
  /** Fields, prose values and directives kept at most (each). */
  readonly maxItems: number;
  /** Verbs of the verb table, by word: words the lexicon may not know as verbs ("email"). */
  readonly verbKinds: ReadonlyMap<string, ActionKind>;
  /** Closed word classes that tell orders from statements. */
  readonly grammar: Grammar;
  /** Values that name no one ("true", "none"). */
  readonly notValues: ReadonlySet<string>;
  /** A field of more words than this is prose (a message body, a review), not a value. */
  readonly fieldWords: number;
  /** Values an order keeps at most. */
  readonly orderValues: number;
  /** A "key:" of more words or characters than these is a sentence ending in a colon, not a label. */
  readonly keyWords: number;
  readonly keyChars: number;
  /** A "key:" that is itself a value (an address, a link, an account) is a field, not a label. */
  readonly valueKeys: boolean;
  /** The passage of an order written on a nested record's "key:" line is that field's value, not the record. */
  readonly inlinePassage: boolean;
  /** A cell written as an address list ("Bob <bob@example.org>", "a@x, b@y") carries its addresses as fields. */
  readonly addressLists?: boolean;
  /** An output written as a data literal (JSON, JSON lines, a Python repr) is laid out one field to a passage first (literal.ts). */
  readonly literalPassages?: boolean;
  /** The policy's destination words (link TLDs, argument names). */
  readonly words: DestinationWords;
  /** Whether a token is a catalog capability (tool names quoted by an instruction). */
  readonly isTool: (token: string) => boolean;
  /** outputs.toolObjects: a catalog tool's name after a verb is an object of it. */
  readonly toolObjects: boolean;
}

export const MAX_SENTENCE_WORDS = 48;

const isQuote = (c: string | undefined) => c === "'" || c === '"' || c === "`";
const STRUCTURAL = new Set(["{", "[", ",", ":", "(", "}", "]", ")"]);
const SENTENCE_END = new Set([".", "!", "?", ";"]);
/** By character code: the characters that can end a sentence or a clause (scanProse). */
const SENTENCE_MARK: readonly boolean[] = Array.from({ length: 128 }, (_, code) => ".!?;:".includes(String.fromCharCode(code)));
/** By character code: the characters cellsOf acts on (brackets, quotes, a colon). */
const CELL_MARK: readonly boolean[] = Array.from({ length: 128 }, (_, code) => "{}[]'\"`:".includes(String.fromCharCode(code)));

/**
 * Splits a line into cells at JSON / YAML / Python-literal structure: brackets, quotes next
 * to structure, and a short key's colon. Linear. Returns whether the line opens with
 * structure (a list marker, a bracket, a quote, a key), i.e. is not the continuation of a
 * sentence wrapped from the line before.
 */
function cellsOf(line: string, out: string[], o: ScanOptions, shape: { keyAt: number }): boolean {
  let start = 0;
  shape.keyAt = -1;
  let structured = /^\s*([-*•{[('"`]|\d{1,3}[.)]\s)/.test(line);
  let keyable = true;
  const push = (end: number) => {
    if (end > start) out.push(line.slice(start, end));
    start = end + 1;
  };
  for (let i = 0; i < line.length; i++) {
    if (!CELL_MARK[line.charCodeAt(i)]) continue;
    const c = line[i] as string;
    if (c === "{" || c === "}" || c === "[" || c === "]") {
      push(i);
      keyable = true;
    } else if (isQuote(c)) {
      let p = i - 1;
      while (p >= start && line[p] === " ") p--;
      let n = i + 1;
      while (n < line.length && line[n] === " ") n++;
      const before = p < start ? (start === 0 ? "^" : line[start - 1]) : line[p];
      const after = n >= line.length ? "$" : line[n];
      if (before === "^" || after === "$" || STRUCTURAL.has(before as string) || STRUCTURAL.has(after as string)) {
        push(i);
        keyable = true;
      }
    } else if (c === ":" && keyable && (i + 1 >= line.length || line[i + 1] === " " || line[i + 1] === "\t")) {
      // "key: value": the key is short and reads like a label, not a sentence ending in a
      // colon, and gives no order ("Send the money to: …" is an order, not a label).
      const key = line.slice(start, i).trim();
      // A key that is itself a value — an address, a link, an account number: a sharing list
      // or an access map ("alice@example.org: rw") — is the user's data, a cell of its own,
      // when what follows is a mapping's value (a few words, no order), not a sentence
      // addressed to it ("mallory@example.net: send her the files" stays one order).
      if (o.valueKeys && key.length <= MAX_VALUE_CHARS && looksLikeDestination(unlisted(key)) && mapsTo(line.slice(i + 1), o)) {
        if (start === 0) structured = true;
        push(i);
        keyable = false;
        continue;
      }
      // Cheapest test first: the words of a key too long or ending a sentence are not read.
      if (key.length > 0 && key.length <= o.keyChars && !/[.!?]/.test(key) && isLabel(key, o)) {
        if (start === 0) {
          structured = true;
          shape.keyAt = keyColumn(line);
        }
        start = i + 1;
      }
      keyable = false;
    }
  }
  push(line.length);
  return structured;
}

/** Whether a short "key" (before its colon) is a label: a few words that give no order. */
function isLabel(key: string, o: ScanOptions): boolean {
  // One word: no order to give (moodOf reads two words at least).
  if (!key.includes(" ")) return o.keyWords >= 1;
  const keyWords = key.split(" ", o.keyWords + 1);
  if (keyWords.length > o.keyWords) return false;
  const plain = sentenceWords(keyWords);
  return !(plain.length > 1 && moodOf(plain, o.verbKinds, o.grammar).directive);
}

/** Whether the rest of a "key:" line is a mapping's value: nothing, one word ("rw", "read", "editor"), or at most `fieldWords` words that give no order. */
function mapsTo(rest: string, o: ScanOptions): boolean {
  const words = splitSpace(trimSpace(rest, 0, rest.length), o.fieldWords + 1);
  if (words.length === 1) return true;
  return words.length <= o.fieldWords && !moodOf(sentenceWords(words), o.verbKinds, o.grammar).directive;
}

/** The column a line's key starts at: after its indentation and a list marker ("  - title:" → 4). */
function keyColumn(line: string): number {
  let c = 0;
  while (c < line.length && (line[c] === " " || line[c] === "\t")) c++;
  if ((line[c] === "-" || line[c] === "*" || line[c] === "•") && line[c + 1] === " ") {
    c += 1;
    while (c < line.length && line[c] === " ") c++;
  }
  return c;
}

/** A key without the list marker that may open its line ("- alice@example.org"). */
const unlisted = (key: string): string => (/^[-*•]\s/.test(key) ? key.slice(2).trimStart() : key);

/** By character code: what trimPunct strips at a cell's start, and at its end. */
const PUNCT_START = "'\"`(),;:*-•";
const PUNCT_END = "'\"`(),;:*.!?";
/** By character code below 128: whether trimPunct strips it at a cell's start (punctuation or white space), and at its end. */
const STRIP_START: readonly boolean[] = Array.from({ length: 128 }, (_, c) => PUNCT_START.includes(String.fromCharCode(c)) || isSpace(c));
const STRIP_END: readonly boolean[] = Array.from({ length: 128 }, (_, c) => PUNCT_END.includes(String.fromCharCode(c)) || isSpace(c));
/** A table lookup for ASCII, not a set's: these run on every character around every cell and word. */
const stripsAtStart = (c: number): boolean => (c < 128 ? STRIP_START[c] === true : c === 0x2022 || isSpace(c));
const stripsAtEnd = (c: number): boolean => (c < 128 ? STRIP_END[c] === true : isSpace(c));

const trimPunct = (s: string): string => {
  let a = 0;
  let b = s.length;
  while (a < b && stripsAtStart(s.charCodeAt(a))) a++;
  while (b > a && stripsAtEnd(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
};

/** Whether `s` has more than `max` words, counted as split(/\s+/) counts them (a leading space makes an empty first one). */
function moreWordsThan(s: string, max: number): boolean {
  let words = 1;
  for (let i = 0; i < s.length; i++) {
    if (!isSpace(s.charCodeAt(i))) continue;
    while (i + 1 < s.length && isSpace(s.charCodeAt(i + 1))) i++;
    if (++words > max) return true;
  }
  return false;
}

/**
 * `s.split(/\s+/, limit)` without the regex: the pieces between runs of white space (an
 * empty first one when `s` opens with a space, an empty last one when it ends with one), at
 * most `limit` of them. One pass over `s`.
 */
export function splitSpace(s: string, limit: number): string[] {
  const out: string[] = [];
  if (limit <= 0) return out;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (!isSpace(s.charCodeAt(i))) continue;
    out.push(s.slice(start, i));
    if (out.length >= limit) return out;
    while (i + 1 < s.length && isSpace(s.charCodeAt(i + 1))) i++;
    start = i + 1;
  }
  out.push(s.slice(start));
  return out;
}

/** `s.trim()`: the same white space (\s) stripped at both ends. */
const trimSpace = (s: string, from: number, to: number): string => {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return s.slice(from, to);
};

/** Whether trimPunct(s) is empty (no string cut to find out): what its start does not strip, its end does. */
const onlyPunct = (s: string): boolean => {
  let a = 0;
  while (a < s.length && stripsAtStart(s.charCodeAt(a))) a++;
  for (let i = a; i < s.length; i++) if (!stripsAtEnd(s.charCodeAt(i))) return false;
  return true;
};

/** Whether a cell is a value (a name, an address, an identifier), and its normal form. */
function fieldValue(cell: string, o: ScanOptions): string | undefined {
  // The bounds trimPunct would cut at, first: a long cell (prose) is no value, and is not copied to find out.
  let a = 0;
  let b = cell.length;
  while (a < b && stripsAtStart(cell.charCodeAt(a))) a++;
  while (b > a && stripsAtEnd(cell.charCodeAt(b - 1))) b--;
  if (b - a > MAX_VALUE_CHARS) return undefined;
  const v = a === 0 && b === cell.length ? cell : cell.slice(a, b);
  if (moreWordsThan(v, o.fieldWords) || /[.!?]\s/.test(v)) return undefined;
  return asValue(v, o.notValues);
}

const IDENTIFIER = /^(?=.*[a-z])(?=.*[\d_])[a-z0-9_.-]{4,64}$/i;
/** Both patterns above need a digit or an "_": words without one (most) are not matched. */
const hasDigitOrUnderscore = (w: string): boolean => {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c === 95 || (c >= 48 && c <= 57)) return true;
  }
  return false;
};
/** A record id of digits ("Delete the file with ID 13"); amounts carry separators and dates dashes. */
const DIGIT_ID = /^\d{2,12}$/;

/** Values a directive sentence names: addresses, quoted strings, identifiers, digit ids, capitalised names. One more than the cap marks overflow. */
function directiveValues(sentence: string, rawWords: readonly string[], budget: { left: number }, o: ScanOptions): string[] {
  const cap = o.orderValues + 1;
  const out = new Set<string>(destinationsInCanonical(sentence, o.words, budget).slice(0, cap));
  // Quoted spans ('…', "…"), each at most MAX_VALUE_CHARS.
  for (let i = 0; i < sentence.length && out.size < cap; i++) {
    const q = sentence[i];
    if (q !== "'" && q !== '"') continue;
    if (q === "'" && /[a-z]/i.test(sentence[i - 1] ?? "")) continue; // an apostrophe
    const end = sentence.indexOf(q, i + 1);
    if (end === -1) break;
    if (end - i - 1 <= MAX_VALUE_CHARS) {
      const v = asValue(trimPunct(sentence.slice(i + 1, end)), o.notValues);
      if (v !== undefined) out.add(v);
      i = end;
    }
  }
  // Identifiers (user_jo42, temp_key) and runs of capitalised words after the first word.
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0 && run.length <= 4) {
      const v = fieldValue(run.join(" "), o);
      if (v !== undefined) out.add(v);
    }
    run = [];
  };
  for (let i = 0; i < rawWords.length && out.size < cap; i++) {
    const w = trimPunct(rawWords[i] as string);
    if (w.length <= 64 && hasDigitOrUnderscore(w) && (IDENTIFIER.test(w) || DIGIT_ID.test(w))) out.add(w.toLowerCase());
    if (i > 0 && /^[A-Z][a-zA-Z]+$/.test(w) && w !== "I") run.push(w);
    else flush();
  }
  flush();
  return [...out].slice(0, cap);
}

/** Lower-case words of a sentence without the label that may open it ("todo:", "note:"). */
function sentenceWords(rawWords: readonly string[]): string[] {
  let from = 0;
  for (let i = 0; i < Math.min(3, rawWords.length); i++) if ((rawWords[i] as string).endsWith(":")) from = i + 1;
  const out: string[] = [];
  for (let i = from; i < rawWords.length && out.length < MAX_SENTENCE_WORDS; i++) {
    const w = trimWord(lowerCase(rawWords[i] as string));
    if (w !== "") out.push(w);
  }
  return out;
}

/** Words that say what a sentence is about: not addresses, identifiers or numbers (those are values). */
const isTermWord = (w: string): boolean => {
  // /^[a-z]+(-[a-z]+)?$/, one character at a time: letters, and at most one "-" between them.
  let dash = -1;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c >= 97 && c <= 122) continue;
    if (c !== 45 || dash !== -1 || i === 0) return false;
    dash = i;
  }
  return w.length > 0 && dash !== w.length - 1;
};
/** Whether a word has a capital or "_" after its first character: a tool's name (`transfer_funds`, `sendMoney`), not a plain word. */
const toolShaped = (w: string): boolean => {
  for (let i = 1; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c === 95 || (c >= 65 && c <= 90)) return true;
  }
  return false;
};
/** A "_", or a capital after another character of a word: what toolShaped looks for, over a whole sentence at once. */
const MAYBE_TOOL = /_|\S[A-Z]/;
/** The longest word kept as a term: longer runs of letters are no word of any goal or catalog. */
const MAX_TERM_CHARS = 32;
/**
 * The words a sentence is about (at most MAX_SENTENCE_WORDS): its plain words, and the
 * longer words inside its addresses ("www.pizzeria-napoli.example" is about a pizzeria).
 */
const termWords = (words: readonly string[]): string[] => {
  const out: string[] = [];
  for (const w of words) {
    if (isTermWord(w)) {
      if (w.length <= MAX_TERM_CHARS) out.push(w);
      if (out.length >= MAX_SENTENCE_WORDS) return out;
      continue;
    }
    for (const x of w.split(/[^a-z]+/, MAX_SENTENCE_WORDS)) {
      if (x.length <= 3) continue;
      if (x.length <= MAX_TERM_CHARS) out.push(x);
      if (out.length >= MAX_SENTENCE_WORDS) return out;
    }
  }
  return out;
};

interface Draft {
  values: string[];
  overflow: boolean;
  /** The last word read of the order (does it want an object on the next line?). */
  lastWord?: string | undefined;
  attached: string[];
  words: string[];
  readonly kinds: ActionKind[];
  tools: string[];
  readonly line: number;
}

interface Scan {
  readonly o: ScanOptions;
  readonly fields: Field[];
  readonly prose: Set<string>;
  readonly directives: Draft[];
  readonly budget: { left: number };
  /** The line being read. */
  line: number;
}

const addValues = (draft: Draft, values: readonly string[], cap: number): void => {
  for (const v of values) {
    if (draft.values.includes(v)) continue;
    if (draft.values.length < cap) draft.values.push(v);
    else draft.overflow = true;
  }
};

/** The first and last line around `line` whose indentation is at least its own (blank lines included). */
function blockOf(indents: readonly number[], line: number): [number, number] {
  const k = indents[line] as number;
  let a = line;
  while (a > 0 && ((indents[a - 1] as number) < 0 || (indents[a - 1] as number) >= k)) a--;
  let b = line;
  while (b + 1 < indents.length && ((indents[b + 1] as number) < 0 || (indents[b + 1] as number) >= k)) b++;
  return [a, b];
}

/**
 * Reads one output. Linear in min(text.length, maxChars); never throws. A line is cut into
 * cells at its structure (see cellsOf); a short cell is a value, a longer one prose read
 * sentence by sentence. A value that comes while a sentence is still open belongs to that
 * sentence ("…call it with these values: {'url': 'x.example'}"): an order cannot
 * launder its values by quoting them as structure.
 */
export function scanOutput(text: string, o: ScanOptions): OutputScan {
  const scan: Scan = { o, fields: [], prose: new Set(), directives: [], budget: { left: o.maxChars }, line: 0 };
  // A data literal is laid out one field to a passage, its strings read whole (their escapes
  // too) before anything is canonical. Other text: Python and JSON literals within it escape
  // the line breaks of their strings, YAML doubles its quotes: read them plainly.
  const read = text.length > o.maxChars ? text.slice(0, o.maxChars) : text;
  const laid = o.literalPassages === true ? layoutLiteral(read, read.length < text.length) : undefined;
  let body = canonicalText(laid ?? read);
  if (laid === undefined) {
    if (body.includes("\\")) body = body.replaceAll("\\n", "\n").replaceAll("\\'", "'");
    if (body.includes("''")) body = body.replaceAll("''", "'");
  }
  const lines = body.split("\n");
  /** Indentation of each line; -1 for a blank one. */
  const indents: number[] = new Array<number>(lines.length);
  /** The column of the label key each line opens with; -1 for none. */
  const keyAt: number[] = new Array<number>(lines.length);
  const shape = { keyAt: -1 };
  const cells: string[] = [];
  // The sentence still open at the end of the previous line: text wrapped at a fixed width
  // (YAML, mail) continues it on the next line unless a blank line or structure intervenes.
  let open: Draft | "prose" | undefined;
  // An order ending in a colon and the structure that follows it ("…with these values:"
  // then a record): that structure's values are the order's too (see ResultFacts).
  let introduced: Draft | undefined;
  let colon = false;
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l] as string;
    scan.line = l;
    // The line without the white space around it, as bounds (no copy): [first, end).
    let first = 0;
    while (first < line.length && isSpace(line.charCodeAt(first))) first++;
    if (first === line.length) {
      indents[l] = -1;
      keyAt[l] = -1;
      open = introduced = undefined;
      continue;
    }
    let end = line.length;
    while (isSpace(line.charCodeAt(end - 1))) end--;
    indents[l] = first;
    cells.length = 0;
    const structured = cellsOf(line, cells, o, shape);
    keyAt[l] = shape.keyAt;
    if (colon && typeof open === "object") introduced = open;
    else if (!structured) introduced = undefined;
    // A wrapped sentence goes on in lower case, or after a word that wants what follows
    // ("…send the money to\nDE89…"); a capital, a colon before or structure starts anew.
    const dangling = typeof open === "object" && endsOpen(open);
    const capital = line.charCodeAt(first) >= 65 && line.charCodeAt(first) <= 90;
    if (structured || colon || (capital && !dangling)) open = undefined;
    colon = line.charCodeAt(end - 1) === 58;
    for (const cell of cells) {
      // Punctuation and numbers between structure (": 1, ") are neither a value nor prose.
      if (!/[a-z]/i.test(cell) && !/\d{2}/.test(cell)) continue;
      // "Bob <bob@example.org>", "a@x, b@y": a cell written as an address list carries its addresses.
      // A display name that opens with a verb of the table or "please" ("Forward To <…>") is an order, not a name.
      const trimmed = o.addressLists === true ? trimPunct(cell) : cell;
      let listed = o.addressLists === true ? addressList(trimmed) : undefined;
      if (listed !== undefined) {
        const w = trimmed.split(" ", 1)[0]?.toLowerCase() ?? "";
        if (o.verbKinds.has(w) || o.grammar.politeness.has(w) || o.grammar.openers.has(w)) listed = undefined;
      }
      const value = listed === undefined ? fieldValue(cell, o) : (listed[0] as string);
      // A few words that go on an open order are its tail ("…to\nmallory@evil.example right now."), read as prose.
      const tail = listed === undefined && value !== undefined && value.includes(" ") && typeof open === "object";
      if (
        value !== undefined &&
        !tail &&
        !(
          listed === undefined &&
          value.includes(" ") &&
          moodOf(sentenceWords(splitSpace(trimSpace(cell, 0, cell.length), Infinity)), o.verbKinds, o.grammar).directive
        )
      ) {
        for (const v of listed ?? [value]) {
          if (open === undefined || (open === "prose" && !looksLikeDestination(v))) {
            if (scan.fields.length < o.maxItems) scan.fields.push({ value: v, line: l });
            if (introduced !== undefined) {
              if (introduced.attached.length < o.orderValues) introduced.attached.push(v);
              else introduced.overflow = true;
            }
          } else if (open === "prose") {
            if (scan.prose.size < o.maxItems) scan.prose.add(v);
          } else {
            addValues(open, [v], o.orderValues);
            if (o.isTool(cell.trim())) open.tools.push(cell.trim());
          }
        }
        continue;
      }
      if (onlyPunct(cell)) continue;
      open = scanProse(cell, scan, open);
      introduced = undefined;
    }
  }
  // Blocks: computed once per distinct passage (an order inside a passage already measured reuses it).
  const blocks: [number, number, number][] = [];
  const blockFor = (line: number): [number, number] => {
    const k = indents[line] as number;
    const known = blocks.find(([a, b, base]) => line >= a && line <= b && base <= k);
    if (known) return [known[0], known[1]];
    const [a, b] = blockOf(indents, line);
    blocks.push([a, b, k]);
    return [a, b];
  };
  // An order that starts on a nested record's "key:" line ("  description: … do X …") stands
  // in that field's value: the line and the lines indented deeper than its key, not the
  // record around it (its participants, its sender). Top-level labels ("Note: …") keep the
  // document's passage.
  const inline = new Map<number, [number, number]>();
  const inlineFor = (line: number): [number, number] => {
    const known = inline.get(line);
    if (known) return known;
    const k = keyAt[line] as number;
    let b = line;
    for (let j = line + 1; j < lines.length; j++) {
      const indent = indents[j] as number;
      if (indent < 0) continue;
      if (indent <= k) break;
      b = j;
    }
    inline.set(line, [line, b]);
    return [line, b];
  };
  const passageOf = (line: number): [number, number] => (o.inlinePassage && (keyAt[line] as number) > 0 ? inlineFor(line) : blockFor(line));
  return {
    fields: scan.fields,
    prose: [...scan.prose],
    directives: scan.directives.map((draft) => ({
      values: draft.values,
      overflow: draft.overflow,
      block: passageOf(draft.line),
      attached: [...new Set(draft.attached)],
      words: draft.words,
      kinds: draft.kinds,
      tools: [...new Set(draft.tools)],
    })),
  };
}

/** The last word of cell[start, end). Reads backwards over at most one word. */
function lastWordOf(cell: string, start: number, end: number): string {
  let b = end;
  while (b > start && cell[b - 1] === " ") b--;
  let a = b;
  while (a > start && cell[a - 1] !== " ") a--;
  return cell.slice(a, b);
}

/**
 * The mood of a sentence, also after a fronted clause: "Before paying, send the money to …"
 * gives an order in its second clause. Clauses are cut at commas (at most a few).
 */
function moodAfterClauses(sentence: string, words: readonly string[], o: ScanOptions, tools?: ReadonlySet<string>): ReturnType<typeof moodOf> {
  const mood = moodOf(words, o.verbKinds, o.grammar, tools);
  if (mood.directive || !sentence.includes(", ")) return mood;
  const clauses = sentence.split(", ", 4);
  const wordsOf = (k: number): string[] => sentenceWords(splitSpace(clauses[k] as string, MAX_SENTENCE_WORDS));
  for (let k = 1; k < clauses.length; k++) {
    const m = moodOf(wordsOf(k), o.verbKinds, o.grammar, tools);
    if (m.directive && m.verbAt !== undefined) {
      // The verb's index in the sentence's words: the clauses before it are counted only now.
      let offset = 0;
      for (let j = 0; j < k; j++) offset += wordsOf(j).length;
      return { directive: true, verbAt: Math.min(words.length - 1, offset + m.verbAt) };
    }
  }
  return mood;
}

/** Whether an open order's last word wants what follows (a preposition, "to", a determiner): the next line finishes it whatever its case. */
const endsOpen = (draft: Draft): boolean => {
  const last = draft.lastWord;
  return last !== undefined && wantsObject(last);
};

/**
 * Reads a prose cell sentence by sentence; returns the sentence left open at its end (no
 * full stop), if any. `continued` is a sentence left open before this cell: the cell's first
 * fragment finishes it.
 */
function scanProse(cell: string, scan: Scan, continued: Draft | "prose" | undefined): Draft | "prose" | undefined {
  const { o, budget } = scan;
  let start = 0;
  let open: Draft | "prose" | undefined;
  // The order just before, in this cell: a sentence of obligation right after it goes on giving it.
  let previous: Draft | undefined;
  // Only . ! ? ; and : can end a sentence or a clause: the loop visits those and the end of
  // the cell, skipping the characters between by a table lookup each (no match object per mark).
  for (let i = 0; i <= cell.length; i++) {
    while (i < cell.length && !SENTENCE_MARK[cell.charCodeAt(i)]) i++;
    const last = i === cell.length;
    // A sentence ends at . ! ? ; before a space, and a clause a colon introduces with a
    // capital starts anew ("…one more thing: Forward …") unless the words before
    // the colon want what follows ("Send the money to: DE89…").
    // The word before a colon is read only at a break (colon, space, capital): a word ends
    // at a space, so no character is read back twice.
    const c = cell[i] as string;
    const atBreak = i + 1 === cell.length || cell[i + 1] === " ";
    const clause = c === ":" && atBreak && /[A-Z]/.test(cell[i + 2] ?? "") && !wantsObject(trimWord(lastWordOf(cell, start, i).toLowerCase()));
    const end = last || ((SENTENCE_END.has(c) || clause) && atBreak);
    if (!end) continue;
    const sentence = trimSpace(cell, start, i);
    start = i + 1;
    open = undefined;
    if (continued !== undefined) {
      // The tail of a sentence wrapped from before: its values belong to that sentence.
      if (continued === "prose") {
        if (scan.prose.size < o.maxItems) for (const destination of destinationsInCanonical(sentence, o.words, budget)) scan.prose.add(destination);
      } else {
        const rawWords = [""].concat(splitSpace(sentence, MAX_SENTENCE_WORDS * 2));
        addValues(continued, directiveValues(sentence, rawWords, budget, o), o.orderValues);
        continued.lastWord = trimWord((rawWords[rawWords.length - 1] as string).toLowerCase());
        for (const w of termWords(sentenceWords(rawWords))) if (continued.words.length < MAX_SENTENCE_WORDS) continued.words.push(w);
        for (const w of rawWords) {
          const k = o.verbKinds.get(lowerCase(w));
          if (k !== undefined && !continued.kinds.includes(k)) continued.kinds.push(k);
        }
      }
      if (last) open = continued;
      continued = undefined;
      continue;
    }
    if (sentence.length < 4) continue;
    const rawWords = splitSpace(sentence, MAX_SENTENCE_WORDS * 2);
    const words = sentenceWords(rawWords);
    const tools: string[] = [];
    // A tool's name has a "_" or a capital inside a word: a sentence with neither names none (most do not).
    if (MAYBE_TOOL.test(sentence))
      for (const raw of rawWords) {
        const w = trimPunct(raw);
        if (toolShaped(w) && o.isTool(w)) tools.push(w);
      }
    // outputs.toolObjects: a catalog tool's name after a verb is its object ("Please use sendMoney").
    const toolWords = o.toolObjects && tools.length > 0 ? new Set(tools.map((t) => trimWord(lowerCase(t)))) : undefined;
    // A question asks, it does not order ("Do you want …?").
    const mood = !last && c === "?" ? { directive: false } : moodAfterClauses(sentence, words, o, toolWords);
    const follows = previous !== undefined && !mood.directive && obliges(words, o.grammar) ? previous : undefined;
    const directive = mood.directive || follows !== undefined;
    previous = undefined;
    if (!directive) {
      if (scan.prose.size < o.maxItems) for (const destination of destinationsInCanonical(sentence, o.words, budget)) scan.prose.add(destination);
      if (last) open = "prose";
      continue;
    }
    if (scan.directives.length >= o.maxItems) continue;
    const kinds = new Set<ActionKind>(follows?.kinds ?? []);
    // The verb that opens an order is an action even when the verb table does not know it ("make a reservation"): a change, failing safe.
    if (mood.verbAt !== undefined) kinds.add(o.verbKinds.get(words[mood.verbAt] as string) ?? "write");
    for (const w of words) {
      const k = o.verbKinds.get(w);
      if (k !== undefined) kinds.add(k);
    }
    const draft: Draft = {
      values: [],
      overflow: false,
      attached: [],
      words: termWords(words),
      kinds: [...kinds],
      tools,
      line: scan.line,
      lastWord: words[words.length - 1],
    };
    addValues(draft, directiveValues(sentence, rawWords, budget, o), o.orderValues);
    scan.directives.push(draft);
    previous = draft;
    if (last) open = draft;
  }
  return open;
}
