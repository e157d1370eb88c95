import { canonicalText, trimWord } from "./text.js";

// Egress destinations named in tool arguments: recipients, URLs, e-mail addresses, bank
// accounts. Provenance of these values (were they in the user's goal, has this principal
// used them before?) is the strongest signal of an agent acting for someone else. The words
// involved (argument names, link TLDs, local parts that name no one) are the policy's
// (`scoring.words`), handed in as DestinationWords (the policy's lexicon is one).

/** The policy words destinations are read with. */
export interface DestinationWords {
  /** Whether an argument name carries a destination. */
  isDestinationArg(name: string): boolean;
  /** Top-level domains that make a bare "name.tld" in free text a link (so "file.txt" is not). */
  readonly linkTlds: ReadonlySet<string>;
  /** Local parts of e-mail addresses that are no one's name. */
  readonly notNames: ReadonlySet<string>;
  /** Whether a value written as an address list ("Bob <bob@example.org>", "a@x, b@y") names its addresses (scoring.outputs.addressLists). */
  readonly addressLists?: boolean;
  /** goalText(), memoised: goals repeat on every event of a session. */
  goalText(goal: string): GoalText;
  /** Whether a whole value is a calendar date the goal writes, however written (scoring.outputs.dates). */
  goalDate?(goal: string, value: string): boolean;
}

export const MAX_DESTINATIONS_PER_EVENT = 32;
const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;
const URL_LIKE = /^(https?:\/\/)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:\d+)?(\/\S*)?$/i;
const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;

/**
 * A destination as Vigil compares it: canonical text (NFKC, no invisible characters),
 * lower case; an account number without the spaces it is grouped by; a link without scheme,
 * "www." and trailing slashes.
 */
export function normalizeDestination(value: string): string {
  const v = canonicalText(value).trim().toLowerCase();
  if (EMAIL.test(v)) return v;
  const compact = v.replace(/\s/g, "");
  if (IBAN.test(compact.toUpperCase())) return compact;
  let end = v.length;
  while (end > 0 && v.charCodeAt(end - 1) === 47) end--;
  return v
    .slice(0, end)
    .replace(/^https?:\/\//, "")
    .replace(/^www\./, "");
}

/**
 * A value that names a destination by its shape, whatever the argument is called. An address
 * and a link hold a ".", an account number digits: a value with neither is not matched at all.
 */
export const looksLikeDestination = (value: string): boolean => {
  if (!value.includes(".")) return HAS_DIGIT.test(value) && IBAN.test(value.replace(/\s/g, ""));
  return EMAIL.test(value.trim()) || IBAN.test(value.replace(/\s/g, "")) || (URL_LIKE.test(value.trim()) && /[a-z]/i.test(value));
};
const HAS_DIGIT = /\d/;

/** Addresses one string of a list holds at most (addressList). */
const MAX_LISTED = 32;
/** One entry of an address list: "addr", "mailto:addr", or "Display Name <addr>" (a quoted name or up to four capitalised words: not a sentence). */
const LISTED = /^(?:(?:"[^"<>@]{0,64}"|[A-Z][^\s<>@"]{0,32}(?: [A-Z][^\s<>@"]{0,32}){0,3})? ?<\s*([^<>\s]+)\s*>|(?:mailto:)?([^\s<>]+))$/;

/**
 * The addresses of one string written the way agents and mail clients write recipients —
 * "Bob <bob@example.org>", "mailto:bob@example.org", "bob@example.org, dave@example.org" —
 * when every entry is one (else undefined: a name, a sentence). Without it such a value
 * names no address at all: neither the user's data it came from nor the order it came from
 * (`scoring.outputs.addressLists`).
 */
export function addressList(value: string): string[] | undefined {
  if (value.length > 2048 || (!value.includes("<") && !value.includes(",") && !value.includes(";") && !/^mailto:/i.test(value.trim()))) return undefined;
  const parts = value.split(/[,;]/, MAX_LISTED + 1);
  if (parts.length > MAX_LISTED) return undefined;
  const out: string[] = [];
  for (const part of parts) {
    const t = part.trim();
    if (t === "") continue;
    const m = LISTED.exec(t);
    const address = m?.[1] ?? m?.[2];
    if (address === undefined || !looksLikeDestination(address)) return undefined;
    out.push(normalizeDestination(address));
  }
  return out.length > 0 ? out : undefined;
}

/** The top-level domain of a "host.tld[:port][/path]" word, lower-case, if it has one. */
function tldOf(word: string): string | undefined {
  const host = word.split("/", 1)[0] as string;
  const dot = host.lastIndexOf(".");
  if (dot === -1) return undefined;
  return host
    .slice(dot + 1)
    .split(":", 1)[0]
    ?.toLowerCase();
}
const IBAN_HEAD = /^[A-Z]{2}\d{2}$/;
const IBAN_GROUP = /^[A-Z0-9]{1,4}$/;
/** What separates words in free text (an address never contains these). */
const SEPARATORS = /[\s<>()[\]{}"',;|]+/;
/** Characters of free text scanned per event, over all its strings: scanning stays linear and bounded. */
export const MAX_TEXT_SCANNED_PER_EVENT = 16_384;

export interface ScanBudget {
  left: number;
}

/**
 * Addresses, links and account numbers written inside free text (a message body, a
 * subject): each word is tested on its own with the anchored patterns above, so the cost is
 * linear in the text, and at most `budget.left` characters are read.
 */
export function embeddedDestinations(text: string, lex: DestinationWords, budget: ScanBudget = { left: MAX_TEXT_SCANNED_PER_EVENT }): string[] {
  return destinationsIn(canonicalText(take(text, budget)), lex);
}

/** embeddedDestinations() for text already in canonical form (canonicalText: a tool output as the scanner reads it). */
export function destinationsInCanonical(text: string, lex: DestinationWords, budget: ScanBudget): string[] {
  return destinationsIn(take(text, budget), lex);
}

/** The start of `text` the budget allows, charged to it. */
function take(text: string, budget: ScanBudget): string {
  const slice = text.slice(0, Math.max(0, budget.left));
  budget.left -= slice.length;
  return slice;
}

/** Where an account number can start: a text without one, an "@" or a "." names no destination. */
const ACCOUNT_START = /[A-Z]{2}\d{2}/;

function destinationsIn(text: string, lex: DestinationWords): string[] {
  // Every word below needs an "@", a "." or an account number's start: most sentences of
  // prose have none, and are not cut into words at all (three native scans instead).
  if (!text.includes("@") && !text.includes(".") && !ACCOUNT_START.test(text)) return [];
  const out: string[] = [];
  const words = text.split(SEPARATORS);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    // An account number written in groups ("DE89 3704 0044 0532 …"): its groups joined.
    if (IBAN_HEAD.test(word)) {
      let joined = word;
      let j = i + 1;
      while (j < words.length && j - i <= 8 && IBAN_GROUP.test(words[j] as string)) joined += words[j++] as string;
      if (j > i + 1 && IBAN.test(joined.toUpperCase())) {
        out.push(joined.toLowerCase());
        i = j - 1;
        if (out.length >= MAX_DESTINATIONS_PER_EVENT) break;
        continue;
      }
    }
    if (word.length < 6 || word.length > 256) continue;
    const hasAt = word.includes("@");
    if (!hasAt && !word.includes(".") && !/^[A-Z]{2}\d{2}/.test(word)) continue;
    // Trim punctuation around the word, and a scheme or label before an address ("mailto:", "from:").
    let v = trimWord(word, true);
    if (hasAt) v = v.slice(v.lastIndexOf(":", v.indexOf("@")) + 1);
    const isLink = !hasAt && !IBAN.test(v) && (/^(https?:\/\/|www\.)/i.test(v) || lex.linkTlds.has(tldOf(v) ?? ""));
    if ((hasAt || isLink || IBAN.test(v)) && looksLikeDestination(v)) out.push(normalizeDestination(v));
    if (out.length >= MAX_DESTINATIONS_PER_EVENT) break;
  }
  return out;
}

const NO_NAMES: string[] = [];

/** The destinations of one call: those it names (by argument, or a whole value shaped like one) and those merely mentioned in its free text. */
export interface CallDestinations {
  readonly named: string[];
  readonly mentioned: string[];
  /** Of `mentioned`, those written only inside a destination argument's text (a name too long to be an address): it names where, it sends nothing. */
  readonly inNames: string[];
}

/** What collect() gathers: the call's destinations, and where each mention was written. */
interface Collected extends CallDestinations {
  readonly inText: string[];
}

function collect(value: unknown, byName: boolean, out: Collected, budget: ScanBudget, depth: number, lex: DestinationWords): void {
  if (depth > 4) return;
  if (typeof value === "string") {
    const listed = lex.addressLists === true ? addressList(value) : undefined;
    if (listed !== undefined) out.named.push(...listed);
    else if (value.length > 0 && value.length <= 512 && (byName || looksLikeDestination(value))) out.named.push(normalizeDestination(value));
    else if (value.length > 12) {
      const found = embeddedDestinations(value, lex, budget);
      out.mentioned.push(...found);
      (byName ? out.inNames : out.inText).push(...found);
    }
  } else if (typeof value === "number" && byName) {
    out.named.push(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, byName, out, budget, depth + 1, lex);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collect(v, byName || lex.isDestinationArg(k), out, budget, depth + 1, lex);
  }
}

/** Named and mentioned destinations of a call's arguments, each de-duplicated and bounded. */
export function callDestinations(
  args: Readonly<Record<string, unknown>> | undefined,
  lex: DestinationWords,
  egressArgs: readonly string[] = [],
): CallDestinations {
  const out: Collected = { named: [], mentioned: [], inNames: [], inText: [] };
  if (!args) return out;
  const budget = { left: MAX_TEXT_SCANNED_PER_EVENT };
  for (const [k, v] of Object.entries(args)) collect(v, egressArgs.includes(k) || lex.isDestinationArg(k), out, budget, 0, lex);
  // Bounded: an event naming thousands of recipients is scored on the first ones.
  const named = [...new Set(out.named)].slice(0, MAX_DESTINATIONS_PER_EVENT);
  const mentioned = [...new Set(out.mentioned)].filter((d) => !named.includes(d)).slice(0, MAX_DESTINATIONS_PER_EVENT);
  // A value also mentioned in free text (a message body) is sent: only those written in names alone.
  const inNames = out.inNames.length === 0 ? NO_NAMES : mentioned.filter((d) => out.inNames.includes(d) && !out.inText.includes(d));
  return { named, mentioned, inNames };
}

/** Every destination in the arguments: named ones first, then those mentioned in free text. */
export function extractDestinations(args: Readonly<Record<string, unknown>> | undefined, lex: DestinationWords, egressArgs: readonly string[] = []): string[] {
  const { named, mentioned } = callDestinations(args, lex, egressArgs);
  return [...named, ...mentioned].slice(0, MAX_DESTINATIONS_PER_EVENT);
}

/**
 * Whether the goal names this destination: literally (case-insensitive, spaces ignored),
 * as the same calendar date (scoring.outputs.dates), or, for an e-mail address, by the person's name in its local part ("Frank" names
 * frank@corp.example and frank.miller@corp.example).
 */
export const goalMentions = (goal: string, destination: string, lex: Pick<DestinationWords, "notNames" | "goalText" | "goalDate">): boolean => {
  // Too short to be named by anything but chance ("e", "" from a blank value).
  if (destination.length < 3) return false;
  const g = lex.goalText(goal);
  if (containsToken(g.lower, destination)) return true;
  // A date, however either writes it ("May 29" and "2024-05-29 10:00").
  if (lex.goalDate?.(goal, destination) === true) return true;
  // Account numbers are written in groups ("DE89 3704 0044 ...").
  if (destination.length >= 12 && /\d/.test(destination) && g.compact.includes(destination.replace(/\s/g, ""))) return true;
  const at = destination.indexOf("@");
  if (at <= 0) return false;
  const first = destination.slice(0, at).split(/[._+-]/)[0] ?? "";
  if (first.length < 3 || !/^[a-z]+$/.test(first) || lex.notNames.has(first)) return false;
  return g.words.has(first);
};

/** A goal as goalMentions reads it: lower-cased, without white space, its words. */
export interface GoalText {
  readonly lower: string;
  readonly compact: string;
  readonly words: ReadonlySet<string>;
}

/** Characters of a goal read: goals are judged on their start (like words()). */
export const MAX_GOAL_CHARS = 4096;

export function goalText(goal: string): GoalText {
  const lower = canonicalText(goal.slice(0, MAX_GOAL_CHARS)).toLowerCase();
  return { lower, compact: lower.replace(/\s/g, ""), words: new Set(lower.split(/[^a-z0-9]+/)) };
}

/** `needle` occurs in `text` with no letter, digit, "-" or "_" right before or after it ("pay.example" is not in "fake-pay.example"). */
function containsToken(text: string, needle: string): boolean {
  // Bounded: a value longer than any goal word names nothing by chance, and a goal can hold
  // a value as a token only so many times (a periodic goal cannot make this quadratic).
  if (needle.length > MAX_NEEDLE) return false;
  const edge = (c: string | undefined) => c === undefined || !/[a-z0-9_-]/.test(c);
  let seen = 0;
  for (let i = text.indexOf(needle); i !== -1 && seen < MAX_OCCURRENCES; i = text.indexOf(needle, i + 1), seen++) {
    if (edge(text[i - 1]) && edge(text[i + needle.length])) return true;
  }
  return false;
}
const MAX_NEEDLE = 256;
const MAX_OCCURRENCES = 64;

/** An e-mail address or an account number (IBAN): a person's or an account's address, not a page's or a file's. */
export const isPersonAddress = (destination: string): boolean => EMAIL.test(destination) || IBAN.test(destination.toUpperCase().replace(/\s/g, ""));

/** Whether a (normalised) destination is an address by its shape (e-mail, link, account number), not a bare name. */
export const isAddress = (destination: string): boolean => isPersonAddress(destination) || (URL_LIKE.test(destination) && destination.includes("."));

/**
 * How much unexplained destinations weigh: fully when one is an address, half when all are
 * bare names (a user, a channel), which agents routinely read from lists the events do not carry.
 */
export const unexplainedWeight = (destinations: readonly string[], bareName: number): number => (destinations.some(isAddress) ? 1 : bareName);

/**
 * The repeat key of a finding about unexplained destinations: a new address is new
 * evidence; another bare name from the same list is not (see discountRepeats in the engine).
 */
export const destinationRepeatKey = (code: string, capability: string, destinations: readonly string[]): string | undefined => {
  const addresses = destinations.filter(isAddress);
  return addresses.length === 0 ? undefined : `${code}|${capability}|${[...addresses].sort().join(",")}`;
};
