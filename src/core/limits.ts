// Limits on what a session or a baseline keeps of attacker-controlled strings. Fields the
// contract leaves unbounded (a context's geo, ip, network, user agent, device id) are kept
// only up to this length: a 200 KB "geo" must not become 200 KB of every snapshot and of
// the agent's baseline. Comparisons use the kept prefix, which no real value reaches.
export const MAX_KEPT_VALUE = 256;

export const kept = (s: string): string => (s.length > MAX_KEPT_VALUE ? s.slice(0, MAX_KEPT_VALUE) : s);
