// A tool output written as a data literal — JSON, JSON lines, a Python repr (dicts, lists,
// tuples, `Name(field=…)` objects) — laid out as indented lines, one field or item to a
// passage, before the output scanner reads it (output-scan.ts). Written on one line, such an
// output is one passage: an order inside one record's text would make every record on that
// line suspect (its senders, participants, names). Laid out, each string stands on lines of
// its own below its key, indented deeper, so an order's passage is that string, as for an
// order in a YAML field.
//
// String boundaries are read on the raw text, before anything is unescaped: an escaped quote
// or line break inside attacker-written text stays inside its string and cannot open a
// record of its own. One pass, linear in the text; nothing is evaluated. A text that is not
// such a literal throughout (prose after it, a bare word where a value should be, a line
// break inside a string) is not laid out: the caller reads it as it is.

/** Containers nested deeper than this are not read as a literal. */
const MAX_DEPTH = 64;
/** Indentation stops growing below this level (two spaces a level): deep nesting costs no more per line. */
const MAX_INDENT = 16;
const INDENT: readonly string[] = Array.from({ length: MAX_INDENT + 1 }, (_, k) => "  ".repeat(k));
const indent = (level: number): string => INDENT[Math.min(level, MAX_INDENT)] as string;

const isWhite = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
/** Characters of a bare token: numbers, literals (true, None), names of objects and fields. */
const isBare = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 43 || c === 45;
const KEYWORDS = new Set(["true", "false", "null", "None", "True", "False", "NaN", "nan", "inf", "Infinity", "-Infinity", "-inf"]);
const NUMBER = /^[-+]?(\d|\.\d)[\d_.eE+-]*$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

interface Frame {
  /** The closing character this container waits for. */
  readonly close: number;
  /** The level of its items' lines. */
  readonly level: number;
}

/** The number the `n` hex digits at `from` write, or undefined when they are not all hex digits. */
const hexAt = (s: string, from: number, n: number): number | undefined => {
  const digits = s.slice(from, from + n);
  return digits.length === n && /^[0-9a-fA-F]+$/.test(digits) ? Number.parseInt(digits, 16) : undefined;
};

/** A string's content, its escapes read (JSON's and Python's): \n a line break, \' a quote, \u0041 a letter. */
function unescape(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) !== 92) continue;
    out += raw.slice(from, i);
    const e = raw[i + 1];
    let width = 2;
    if (e === "n") out += "\n";
    else if (e === "t") out += " ";
    else if (e === "r") out += "";
    else if (e === "u" || e === "x") {
      const n = e === "u" ? 4 : 2;
      const code = hexAt(raw, i + 2, n);
      if (code === undefined) out += e;
      else {
        out += String.fromCharCode(code);
        width = 2 + n;
      }
    } else if (e !== undefined) out += e;
    i += width - 1;
    from = i + 1;
  }
  return out + raw.slice(from);
}

/**
 * `text` laid out as indented lines when it is a data literal throughout, else undefined.
 * A dict's key stands on its line ("'sender':", "id: 3"), a string value on the lines below
 * it one level deeper; a list's item after a "-" line, one level deeper. A string of one line
 * keeps its quotes (a cell of its own); one of several lines is written as those lines.
 * Whatever a string's text holds (quotes, brackets, "key: value" lines) stays on its lines,
 * inside the passage of an order written in it. `cut`: the text is the start of a longer
 * output, so a string or container it leaves open is read up to where it stops.
 */
export function layoutLiteral(text: string, cut = false): string | undefined {
  let i = 0;
  while (i < text.length && isWhite(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (first !== 123 && first !== 91) return undefined;
  const lines: string[] = [];
  const stack: Frame[] = [];
  /** A key read in the current container, waiting for its value. */
  let key: string | undefined;
  /** A value of the current container has ended: a separator, a close or (implicitly) a new item may come. */
  let ended = false;

  /** Where a value goes: after its key's line, or after a "-" line for a list item. Returns the level of its own lines. */
  const place = (): number => {
    const frame = stack[stack.length - 1];
    const level = frame?.level ?? 0;
    if (key !== undefined) {
      lines.push(indent(level) + key + ":");
      key = undefined;
    } else lines.push(indent(level) + "-");
    return level + 1;
  };
  const scalar = (line: string) => {
    const frame = stack[stack.length - 1];
    const level = frame?.level ?? 0;
    if (key !== undefined) {
      lines.push(`${indent(level)}${key}: ${line}`);
      key = undefined;
    } else lines.push(`${indent(level)}- ${line}`);
  };
  /** The next character after white space from `from` (and its index). */
  const peek = (from: number): number => {
    while (from < text.length && isWhite(text.charCodeAt(from))) from++;
    return from;
  };
  /** Whether `c` makes the token before it a key in the current container. */
  const keyMark = (c: number): boolean => c === 58 || (c === 61 && stack[stack.length - 1]?.close === 41);

  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isWhite(c)) {
      i++;
      continue;
    }
    if (c === 44) {
      // A separator between items; at the top (JSON lines) none is expected.
      if (!ended || stack.length === 0 || key !== undefined) return undefined;
      ended = false;
      i++;
      continue;
    }
    if (c === 125 || c === 93 || c === 41) {
      const frame = stack.pop();
      if (frame === undefined || frame.close !== c || key !== undefined) return undefined;
      ended = true;
      i++;
      continue;
    }
    // Anything else starts a value (or a key). Outside any container only a new record may.
    if (stack.length === 0 && c !== 123 && c !== 91) return undefined;
    if (c === 123 || c === 91 || c === 40) {
      if (stack.length >= MAX_DEPTH) return undefined;
      const level = stack.length === 0 ? 0 : place();
      stack.push({ close: c === 123 ? 125 : c === 91 ? 93 : 41, level });
      ended = false;
      i++;
      continue;
    }
    if (c === 34 || c === 39) {
      // A string: its end is the next quote of its kind that no backslash escapes.
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 92) j++;
        else if (d === c) break;
        else if (d === 10) return undefined; // a line break inside a string: not a literal
      }
      if (j >= text.length && !cut) return undefined;
      const raw = text.slice(i + 1, Math.min(j, text.length));
      const next = peek(j + 1);
      i = j + 1;
      if (key === undefined && keyMark(text.charCodeAt(next))) {
        key = text.slice(i - raw.length - 2, i);
        i = next + 1;
        continue;
      }
      const content = unescape(raw);
      const level = place();
      if (!content.includes("\n")) lines.push(indent(level) + String.fromCharCode(c) + content + String.fromCharCode(c));
      else for (const l of content.split("\n")) lines.push(l === "" ? "" : indent(level) + l);
      ended = true;
      continue;
    }
    if (!isBare(c)) return undefined;
    let j = i;
    while (j < text.length && isBare(text.charCodeAt(j))) j++;
    const token = text.slice(i, j);
    const next = peek(j);
    const after = text.charCodeAt(next);
    if (after === 40 && NAME.test(token)) {
      // An object's repr, `Email(…)`: its name says nothing; its fields are read.
      i = next;
      continue;
    }
    if (key === undefined && keyMark(after) && NAME.test(token)) {
      key = token;
      i = next + 1;
      continue;
    }
    if (!NUMBER.test(token) && !KEYWORDS.has(token)) return undefined;
    scalar(token);
    ended = true;
    i = j;
  }
  if ((stack.length > 0 || key !== undefined) && !cut) return undefined;
  return lines.join("\n");
}
