// Glob patterns for capabilities and resources: `*` matches any run of characters,
// `?` one character; everything else is literal. `expense.*` matches `expense.approve`.

const cache = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${body}$`);
    cache.set(pattern, re);
  }
  return re;
}

export const globMatch = (pattern: string, value: string): boolean =>
  pattern === value || pattern === "*" || (pattern.includes("*") || pattern.includes("?") ? compile(pattern).test(value) : false);

export const anyGlob = (patterns: readonly string[], value: string): boolean => patterns.some((p) => globMatch(p, value));
