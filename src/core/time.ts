// Event time helpers. Parsing an RFC 3339 string is pure; the clock is never read.

export const toMillis = (iso: string): number => Date.parse(iso);
export const toIso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
export const utcHour = (iso: string): number => new Date(Date.parse(iso)).getUTCHours();
