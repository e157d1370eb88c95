// Lexical helpers for inferring scope from a goal written in words. Deliberately small:
// lower-case word tokens, a light suffix stemmer, and stop words that carry no intent.

const STOP = new Set(
  "a an and are as at be by can could do for from get give have i in into is it its me my of on or our please the their them then this to up us we what when where which who will with would you your all any some make let need want help also just now new".split(" "),
);

/** Stems "approved", "approving", "approval" and "approves" to one token, "reports" to "report". */
export function stem(word: string): string {
  let w = word;
  for (const suffix of ["ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "als", "al", "ers", "er", "es", "ed", "e", "s", "y"]) {
    if (w.length - suffix.length >= 4 && w.endsWith(suffix)) {
      w = w.slice(0, w.length - suffix.length);
      break;
    }
  }
  return w;
}

/** Splits identifiers and prose: `getUserInfo`, `send_money`, `expense.approve`, "Pay the bill". */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1);
}

export function tokens(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(text)) if (!STOP.has(w)) out.add(stem(w));
  return out;
}

export function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): string[] {
  const shared: string[] = [];
  for (const t of a) if (b.has(t)) shared.push(t);
  return shared;
}

const cache = new Map<string, ReadonlySet<string>>();
/** tokens() with a bounded memo: goals repeat on every event of a session. */
export function cachedTokens(text: string): ReadonlySet<string> {
  let t = cache.get(text);
  if (!t) {
    if (cache.size > 10_000) cache.clear();
    t = tokens(text);
    cache.set(text, t);
  }
  return t;
}
