// Calendar dates as a goal and a call write them: "May 29", "29 May", "the 29th of May 2024"
// in a goal, "2024-05-29" or "2024-05-29 10:00" in a call's argument (and the reverse). Both
// are read to one normal form, month and day with an optional year, so that the same date
// matches however it is written (scoring.outputs.dates). Month names come from the policy
// (`scoring.words.months`). Every scan is linear in its text and bounded: a goal is read on
// its start, a value only when short, and at most MAX_DATES dates are kept.

/** A calendar date: month 1–12, day 1–31, the year when written. */
export interface CalendarDate {
  readonly month: number;
  readonly day: number;
  readonly year?: number;
}

/** Dates kept from one text at most. */
export const MAX_DATES = 16;
/** The longest value read as a date ("Wednesday, the 29th of September 2024 at 10:00:00"). */
const MAX_DATE_VALUE_CHARS = 64;

/** ISO form (lower-cased), optionally with a time: "2024-05-29", "2024-05-29 10:00", "2024-05-29t10:00:00z". */
const ISO_VALUE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:z|[+-]\d{2}:?\d{2})?)?$/;
/** An ISO date inside a text: not part of a longer run of digits or dashes. */
const ISO_IN_TEXT = /(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])/g;
/** The words and numbers of a text, with where each starts and ends. */
const TOKEN = /[a-z]+|\d+(?:st|nd|rd|th)?/g;
/** A time after a written date: "10:00", "at 10:00", "10:00:00", "10am", "10:30 pm". */
const TIME_TAIL = /^,?\s+(?:at\s+)?(?:\d{1,2}(?::\d{2}){1,2}\s*(?:[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?)$/;
/** A whole value written in words: "29 May", "the 29th of May, 2024", "May 29th 2024", "Sept. 3". */
const WORD_VALUE = /^(?:the\s+)?(?:(\d{1,2}(?:st|nd|rd|th)?)\s+(?:of\s+)?([a-z]+)\.?|([a-z]+)\.?\s+(\d{1,2}(?:st|nd|rd|th)?))(?:,?\s+(\d{4}))?/;

const valid = (month: number, day: number, year?: number): CalendarDate | undefined =>
  month >= 1 && month <= 12 && day >= 1 && day <= 31 ? { month, day, ...(year !== undefined ? { year } : {}) } : undefined;

const dayOf = (token: string | undefined): number | undefined => {
  if (token === undefined || !/^\d{1,2}(?:st|nd|rd|th)?$/.test(token)) return undefined;
  const n = Number.parseInt(token, 10);
  return n >= 1 && n <= 31 ? n : undefined;
};
const yearOf = (token: string | undefined): number | undefined => (token !== undefined && /^\d{4}$/.test(token) ? Number(token) : undefined);

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The dates a text writes (lower-case text expected), in words or in ISO form, at most
 * MAX_DATES. A month name needs a day next to it ("May 29", "29 May", "29th of May"): a
 * month alone ("in May") and the modal "may" without a day are no date. Tokens are joined
 * only across white space and commas ("May, 29" and "May 29, 2024"), "of" between a day and
 * its month.
 */
export function datesIn(text: string, months: ReadonlyMap<string, number>): CalendarDate[] {
  const out: CalendarDate[] = [];
  for (const m of text.matchAll(ISO_IN_TEXT)) {
    const d = valid(Number(m[2]), Number(m[3]), Number(m[1]));
    if (d !== undefined) out.push(d);
    if (out.length >= MAX_DATES) return out;
  }
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  // Two tokens are one phrase when only white space, a comma or a full stop after an abbreviation stand between them.
  const joined = (a: Token | undefined, b: Token | undefined): boolean =>
    a !== undefined && b !== undefined && /^\.?,?\s+$|^,$/.test(text.slice(a.end, b.start));
  for (let i = 0; i < tokens.length && out.length < MAX_DATES; i++) {
    const t = tokens[i] as Token;
    const month = months.get(t.text);
    if (month === undefined) continue;
    const after = tokens[i + 1];
    const dayAfter = joined(t, after) ? dayOf(after?.text) : undefined;
    if (dayAfter !== undefined) {
      // "May 29", "May 29th, 2024"
      const y = joined(after, tokens[i + 2]) ? yearOf(tokens[i + 2]?.text) : undefined;
      const d = valid(month, dayAfter, y);
      if (d !== undefined) out.push(d);
      continue;
    }
    // "29 May", "29th of May 2024"
    let k = i - 1;
    if (tokens[k]?.text === "of" && joined(tokens[k], t)) k--;
    const before = tokens[k];
    const dayBefore = joined(before, k === i - 1 ? t : tokens[k + 1]) ? dayOf(before?.text) : undefined;
    if (dayBefore === undefined) continue;
    const y = joined(t, after) ? yearOf(after?.text) : undefined;
    const d = valid(month, dayBefore, y);
    if (d !== undefined) out.push(d);
  }
  return out;
}

/**
 * The date a whole argument value writes: ISO ("2024-05-29", "2024-05-29 10:00") or in words
 * ("May 29, 2024", "29 May at 10:00"); undefined for a value that is anything more (an order
 * that mentions a date, a query, a number).
 */
export function dateValue(value: string, months: ReadonlyMap<string, number>): CalendarDate | undefined {
  const v = value.trim().toLowerCase();
  if (v.length < 5 || v.length > MAX_DATE_VALUE_CHARS) return undefined;
  const iso = ISO_VALUE.exec(v);
  if (iso) return valid(Number(iso[2]), Number(iso[3]), Number(iso[1]));
  const m = WORD_VALUE.exec(v);
  if (m === null) return undefined;
  const month = months.get(m[2] ?? m[3] ?? "");
  const day = dayOf(m[1] ?? m[4]);
  if (month === undefined || day === undefined) return undefined;
  const rest = v.slice(m[0].length);
  return rest === "" || TIME_TAIL.test(rest) ? valid(month, day, yearOf(m[5])) : undefined;
}

/** The same day: month and day equal, and the year too when both write one (a missing year matches any). */
export const sameDate = (a: CalendarDate, b: CalendarDate): boolean =>
  a.month === b.month && a.day === b.day && (a.year === undefined || b.year === undefined || a.year === b.year);

/**
 * The policy's month words by name (`scoring.words.months`): the twelve names January first,
 * then abbreviations, each of the month whose name it begins ("jan", "sept").
 */
export function monthTable(months: readonly string[]): ReadonlyMap<string, number> {
  const names = months.slice(0, 12).map((m) => m.toLowerCase());
  const out = new Map<string, number>(names.map((n, i) => [n, i + 1]));
  for (const a of months.slice(12).map((m) => m.toLowerCase())) {
    const i = names.findIndex((n) => n.startsWith(a));
    if (i >= 0 && !out.has(a)) out.set(a, i + 1);
  }
  return out;
}
