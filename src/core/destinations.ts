// Egress destinations named in tool arguments: recipients, URLs, e-mail addresses, bank
// accounts. Provenance of these values (were they in the user's goal, has this principal
// used them before?) is the strongest signal of an agent acting for someone else.

export const MAX_DESTINATIONS_PER_EVENT = 32;
const EGRESS_ARG = /^(to|cc|bcc|recipients?|emails?|e_?mail_?address(es)?|address(es)?|urls?|links?|iban|account(_?(number|id))?|destination|dest|target|webhook|endpoint|host|domain|phone(_?number)?|participants?|attendees?|user|channel)$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;
const URL_LIKE = /^(https?:\/\/)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:\d+)?(\/\S*)?$/i;
const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;

export function normalizeDestination(value: string): string {
  const v = value.trim().toLowerCase();
  if (EMAIL.test(v)) return v;
  return v.replace(/^https?:\/\//, "").replace(/^www\./, "").replace(/\/+$/, "");
}

/** A value that names a destination by its shape, whatever the argument is called. */
export const looksLikeDestination = (value: string): boolean =>
  EMAIL.test(value.trim()) || IBAN.test(value.replace(/\s/g, "")) || (URL_LIKE.test(value.trim()) && /[a-z]/i.test(value) && value.includes("."));

/** Addresses, links and account numbers written inside free text (a message body, a subject). */
const EMBEDDED = /[^\s@<>()"',;]+@[^\s@<>()"',;]+\.[a-z]{2,}|\b(?:https?:\/\/)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|app|info|biz|co|uk|de|fr|ru|cn|xyz|site|online|top|me|ly|gl|to)\b(?:\/[^\s"'<>)]*)?|\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b/gi;
const MAX_TEXT_SCANNED = 4096;

export function embeddedDestinations(text: string): string[] {
  const out: string[] = [];
  for (const m of text.slice(0, MAX_TEXT_SCANNED).matchAll(EMBEDDED)) {
    const v = m[0].replace(/[.:]+$/, "");
    if (looksLikeDestination(v)) out.push(normalizeDestination(v));
    if (out.length >= MAX_DESTINATIONS_PER_EVENT) break;
  }
  return out;
}

function collect(value: unknown, byName: boolean, out: string[], depth: number): void {
  if (depth > 4) return;
  if (typeof value === "string") {
    if (value.length > 0 && value.length <= 512 && (byName || looksLikeDestination(value))) out.push(normalizeDestination(value));
    else if (value.length > 12) out.push(...embeddedDestinations(value));
  } else if (typeof value === "number" && byName) {
    out.push(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, byName, out, depth + 1);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collect(v, byName || EGRESS_ARG.test(k), out, depth + 1);
  }
}

/** Destinations in the arguments: values of egress-like parameters (by name or catalog) and values shaped like one. */
export function extractDestinations(args: Readonly<Record<string, unknown>> | undefined, egressArgs: readonly string[] = []): string[] {
  if (!args) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(args)) collect(v, egressArgs.includes(k) || EGRESS_ARG.test(k), out, 0);
  // Bounded: an event naming thousands of recipients is scored on the first ones.
  return [...new Set(out)].slice(0, MAX_DESTINATIONS_PER_EVENT);
}

/**
 * Whether the goal names this destination: literally (case-insensitive, spaces ignored),
 * or, for an e-mail address, by the person's name in its local part ("Frank" names
 * frank@corp.example and frank.miller@corp.example).
 */
export const goalMentions = (goal: string, destination: string): boolean => {
  const g = goal.toLowerCase();
  if (g.includes(destination) || g.replace(/\s/g, "").includes(destination.replace(/\s/g, ""))) return true;
  const at = destination.indexOf("@");
  if (at <= 0) return false;
  const names = destination.slice(0, at).split(/[._+-]/).filter((n) => n.length >= 3 && /^[a-z]+$/.test(n));
  const goalWords = new Set(g.split(/[^a-z0-9]+/));
  return names.length > 0 && goalWords.has(names[0] as string);
};

/** Whether a (normalised) destination is an address by its shape (e-mail, link, account number), not a bare name. */
export const isAddress = (destination: string): boolean =>
  EMAIL.test(destination) || IBAN.test(destination.toUpperCase().replace(/\s/g, "")) || (URL_LIKE.test(destination) && destination.includes("."));

/**
 * How much unexplained destinations weigh: fully when one is an address, half when all are
 * bare names (a user, a channel), which agents routinely read from lists the events do not carry.
 */
export const unexplainedWeight = (destinations: readonly string[]): number => (destinations.some(isAddress) ? 1 : 0.5);
