import { addressList, looksLikeDestination, normalizeDestination } from "./destinations.js";
import { lowerCase, singleSpaced } from "./text.js";

// Values as provenance compares them: a call's whole argument values and the fields of a
// tool's output, in one normal form (addresses normalised like destinations, names
// lower-cased with single spaces). Numbers, dates, and the policy's `words.notValues`
// (booleans, empty literals) name no one.

/** The longest value compared; longer strings are text, not values. */
export const MAX_VALUE_CHARS = 128;
/** Whole argument values of one call that are checked, at most. */
export const MAX_VALUES_PER_CALL = 16;

/** Amounts, dates and other numbers name no one; an identifier made of digits ("13", a file or record id) does. */
export const isNumberish = (s: string): boolean => (!/[a-z]/i.test(s) && !/^\d{2,12}$/.test(s)) || /^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}/.test(s);

/** Could be an address (has "@" or ".", or starts like an IBAN): only then are the address patterns run. */
const mayBeAddress = (v: string): boolean => v.includes(".") || v.includes("@") || /^[A-Za-z]{2}\d{2}/.test(v);

export function normalizeValue(raw: string): string {
  const v = raw.trim();
  if (mayBeAddress(v) && looksLikeDestination(v)) return normalizeDestination(v);
  return singleSpaced(lowerCase(v));
}

/** The normal form of a string if it can name someone or something, else undefined. */
export function asValue(raw: string, notValues: ReadonlySet<string>): string | undefined {
  const v = raw.trim();
  if (v.length < 2 || v.length > MAX_VALUE_CHARS || isNumberish(v)) return undefined;
  const n = normalizeValue(v);
  return notValues.has(n) ? undefined : n;
}

/**
 * Visits the string values of a call's arguments, nested at most three deep, at most
 * MAX_VALUES_PER_CALL items of a list or record each, while `more()` holds.
 */
function eachString(value: unknown, visit: (s: string) => void, more: () => boolean, depth = 0): void {
  if (!more() || depth > 3) return;
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) for (const x of value.slice(0, MAX_VALUES_PER_CALL)) eachString(x, visit, more, depth + 1);
  else if (value !== null && typeof value === "object")
    for (const x of Object.values(value).slice(0, MAX_VALUES_PER_CALL)) eachString(x, visit, more, depth + 1);
}

/** The whole string values of a call's arguments that can name someone or something (bounded). */
export function argumentValues(args: Readonly<Record<string, unknown>> | undefined, notValues: ReadonlySet<string>, lists = false): string[] {
  const out = new Set<string>();
  const more = () => out.size < MAX_VALUES_PER_CALL;
  if (args !== undefined)
    eachString(
      args,
      (value) => {
        // "Bob <bob@example.org>", "a@x, b@y": the addresses are the values.
        const listed = lists ? addressList(value) : undefined;
        if (listed !== undefined) {
          for (const a of listed.slice(0, MAX_VALUES_PER_CALL - out.size)) out.add(a);
          return;
        }
        const v = asValue(value, notValues);
        if (v !== undefined) out.add(v);
      },
      more,
    );
  return [...out];
}

/** The string values of a call's arguments as written (bounded like argumentValues): where dates are looked for, which are no values (isNumberish). */
export function argumentStrings(args: Readonly<Record<string, unknown>> | undefined): string[] {
  const out: string[] = [];
  if (args !== undefined)
    eachString(
      args,
      (s) => out.push(s),
      () => out.length < MAX_VALUES_PER_CALL,
    );
  return out;
}
