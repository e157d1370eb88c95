// Glob patterns for capabilities and resources: `*` matches any run of characters, `?`
// one character; everything else is literal. `expense.*` matches `expense.approve`.
// Matched without regular expressions, in O(pattern × value) time at worst: patterns come
// from events (declared intents), so a crafted pattern must not cost exponential time.

export function globMatch(pattern: string, value: string): boolean {
  if (pattern === value || pattern === "*") return true;
  if (!pattern.includes("*") && !pattern.includes("?")) return false;
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (c === "?" || (c !== undefined && c !== "*" && c === value[v])) {
      p++;
      v++;
    } else if (c === "*") {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

export const anyGlob = (patterns: readonly string[], value: string): boolean => patterns.some((p) => globMatch(p, value));
