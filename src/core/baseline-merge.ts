import type { Baseline } from "./baseline.js";
import { MAX_DESTINATIONS, MAX_FEEDBACK, MAX_TRANSITIONS, emptyBaseline } from "./baseline.js";
import { toMillis } from "./time.js";

// Baselines as mergeable facts, so that many processors can add to one agent's or one
// principal's baseline without losing each other's increments (docs/performance.md,
// "Many processors"). A batch does not write back the baseline it loaded (last writer would
// win); it writes what it added — a delta — and the store merges it into whatever is stored
// by then: counts add, peaks and the last-seen time take the larger, a feedback entry the
// later one. Merging is commutative and associative below the caps; at a cap, which new
// key is kept follows the order deltas arrive in (keys within one delta in sorted order),
// exactly as one writer's `bump` keeps the first keys it meets.
//
// `mergeBaseline` is the reference; the Redis store applies the same rules in a Lua script
// (adapters/redis/baseline-merge.lua.ts) and a contract test holds the two equal.

/** The count maps of a baseline and how many keys each keeps (the caps `learn` uses). */
export const BASELINE_COUNT_CAPS = {
  capabilities: 4096,
  attempted: 4096,
  transitions: MAX_TRANSITIONS,
  destinations: MAX_DESTINATIONS,
  ips: 256,
  geos: 256,
} as const;
export type CountMapName = keyof typeof BASELINE_COUNT_CAPS;
const COUNT_MAPS = Object.keys(BASELINE_COUNT_CAPS) as CountMapName[];

/** What one batch added to a baseline. Pairs are sorted by key, so a merge meets new keys in one order everywhere. */
export interface BaselineDelta {
  readonly sessions: number;
  readonly actions: number;
  readonly counts: Readonly<Partial<Record<CountMapName, readonly (readonly [string, number])[]>>>;
  /** Increments per UTC hour (24), or absent when none. */
  readonly hours?: readonly number[];
  readonly peakPerMinute?: number;
  readonly peakHarmful?: number;
  /** The batch's latest event time, with its instant (compared as instants, not as text). */
  readonly lastSeen?: { readonly time: string; readonly ms: number };
  /** Feedback entries the batch set: key, entry, the entry's instant. */
  readonly feedback?: readonly (readonly [string, { readonly factor: number; readonly at: string }, number])[];
}

/** A copy whose maps a batch may change in place (`learn`) without touching the original. */
export function cloneBaseline(b: Baseline): Baseline {
  return {
    ...b,
    capabilities: { ...b.capabilities },
    ...(b.attempted ? { attempted: { ...b.attempted } } : {}),
    transitions: { ...b.transitions },
    destinations: { ...b.destinations },
    ips: { ...b.ips },
    geos: { ...b.geos },
    hours: [...b.hours],
    ...(b.feedback ? { feedback: { ...b.feedback } } : {}),
  };
}

/** An instant for the wire: an unreadable time as the earliest instant a Date can hold (JSON has no -Infinity). */
const finiteMillis = (time: string): number => {
  const ms = toMillis(time);
  return Number.isFinite(ms) ? ms : -8.64e15;
};

const byKey = (a: readonly [string, ...unknown[]], b: readonly [string, ...unknown[]]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** What `after` added to `before` (undefined before: a baseline new in this batch); undefined when nothing. */
export function baselineDelta(before: Baseline | undefined, after: Baseline): BaselineDelta | undefined {
  let changed = false;
  const counts: Partial<Record<CountMapName, [string, number][]>> = {};
  for (const name of COUNT_MAPS) {
    const now = after[name];
    if (!now) continue;
    const was = before?.[name];
    const pairs: [string, number][] = [];
    for (const key of Object.keys(now)) {
      const added = (now[key] as number) - (was && Object.hasOwn(was, key) ? (was[key] as number) : 0);
      if (added > 0) pairs.push([key, added]);
    }
    if (pairs.length > 0) {
      counts[name] = pairs.sort(byKey);
      changed = true;
    }
  }
  const hours = after.hours.map((h, i) => h - (before?.hours[i] ?? 0));
  const anyHour = hours.some((h) => h > 0);
  const sessions = after.sessions - (before?.sessions ?? 0);
  const actions = after.actions - (before?.actions ?? 0);
  const peakPerMinute = after.peakPerMinute > (before?.peakPerMinute ?? 0) ? after.peakPerMinute : undefined;
  const peakHarmful = (after.peakHarmful ?? 0) > (before?.peakHarmful ?? 0) ? after.peakHarmful : undefined;
  const lastSeen = after.lastSeen !== undefined && after.lastSeen !== before?.lastSeen ? { time: after.lastSeen, ms: toMillis(after.lastSeen) } : undefined;
  const feedback: [string, { factor: number; at: string }, number][] = [];
  for (const [key, entry] of Object.entries(after.feedback ?? {})) {
    const was = before?.feedback?.[key];
    if (!was || was.at !== entry.at || was.factor !== entry.factor) feedback.push([key, { factor: entry.factor, at: entry.at }, finiteMillis(entry.at)]);
  }
  feedback.sort(byKey);
  if (
    !changed &&
    !anyHour &&
    sessions === 0 &&
    actions === 0 &&
    peakPerMinute === undefined &&
    peakHarmful === undefined &&
    !lastSeen &&
    feedback.length === 0
  ) {
    return undefined;
  }
  return {
    sessions,
    actions,
    counts,
    ...(anyHour ? { hours } : {}),
    ...(peakPerMinute !== undefined ? { peakPerMinute } : {}),
    ...(peakHarmful !== undefined ? { peakHarmful } : {}),
    ...(lastSeen && Number.isFinite(lastSeen.ms) ? { lastSeen } : {}),
    ...(feedback.length > 0 ? { feedback } : {}),
  };
}

/** Instants that can be compared: an unreadable time counts as the earliest. */
const instant = (time: string | undefined): number => {
  if (time === undefined) return -Infinity;
  const ms = toMillis(time);
  return Number.isFinite(ms) ? ms : -Infinity;
};

/** `stored` with `delta` merged in (a new object; `stored` is not changed). */
export function mergeBaseline(stored: Baseline | undefined, delta: BaselineDelta): Baseline {
  const b = cloneBaseline(stored ?? emptyBaseline());
  const m = b as { -readonly [K in keyof Baseline]: Baseline[K] } & Record<CountMapName, Record<string, number>>;
  m.sessions += delta.sessions;
  m.actions += delta.actions;
  for (const name of COUNT_MAPS) {
    const pairs = delta.counts[name];
    if (!pairs) continue;
    const map = (m[name] ??= {});
    let size = Object.keys(map).length;
    for (const [key, n] of pairs) {
      if (key === "__proto__") continue;
      if (Object.hasOwn(map, key)) map[key] = (map[key] as number) + n;
      else if (size < BASELINE_COUNT_CAPS[name]) {
        map[key] = n;
        size++;
      }
    }
  }
  if (delta.hours) {
    const hours = [...m.hours];
    delta.hours.forEach((h, i) => {
      hours[i] = (hours[i] ?? 0) + h;
    });
    m.hours = hours;
  }
  if (delta.peakPerMinute !== undefined && delta.peakPerMinute > m.peakPerMinute) m.peakPerMinute = delta.peakPerMinute;
  if (delta.peakHarmful !== undefined && delta.peakHarmful > (m.peakHarmful ?? 0)) m.peakHarmful = delta.peakHarmful;
  if (delta.lastSeen && delta.lastSeen.ms > instant(m.lastSeen)) m.lastSeen = delta.lastSeen.time;
  if (delta.feedback) {
    const entries: Record<string, { factor: number; at: string }> = { ...m.feedback };
    for (const [key, entry, ms] of delta.feedback) {
      const was = entries[key];
      if (!was || ms >= instant(was.at)) entries[key] = { factor: entry.factor, at: entry.at };
    }
    // Bounded as `withFeedback` bounds it: the entries set longest ago go first (ties: by key).
    const keys = Object.keys(entries).sort((a, c) => instant(entries[a]?.at) - instant(entries[c]?.at) || (a < c ? -1 : a > c ? 1 : 0));
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_FEEDBACK))) delete entries[k];
    m.feedback = entries;
  }
  return b;
}
