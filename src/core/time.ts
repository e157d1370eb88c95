// Event time helpers. Parsing an RFC 3339 string is pure; the clock is never read.

// One step parses the same few timestamps (the event's, the session's last, the risk's)
// several times: the last two answers are kept.
let lastIso = "";
let lastMs = Number.NaN;
let prevIso = "";
let prevMs = Number.NaN;
export const toMillis = (iso: string): number => {
  if (iso === lastIso) return lastMs;
  if (iso === prevIso) return prevMs;
  prevIso = lastIso;
  prevMs = lastMs;
  lastIso = iso;
  lastMs = Date.parse(iso);
  return lastMs;
};
export const toIso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
/** The UTC hour of a timestamp (event time; NaN stays NaN). */
export const utcHour = (iso: string): number => {
  const ms = toMillis(iso);
  return ((Math.floor(ms / 3_600_000) % 24) + 24) % 24;
};
