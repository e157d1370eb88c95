import { kept } from "./limits.js";
import type { AgentEvent } from "../protocol/index.js";
import { toMillis, utcHour } from "./time.js";

// Learned behaviour of one agent or one principal, in event time. Only what actually ran
// is learned: an action Vigil blocked never becomes "normal" (no poisoning by attacks).

export const MAX_DESTINATIONS = 2000;
export const MAX_TRANSITIONS = 2000;

export interface Baseline {
  readonly sessions: number;
  readonly actions: number;
  readonly capabilities: Readonly<Record<string, number>>;
  /**
   * Sessions in which each capability was attempted, whether or not it was allowed to run.
   * Optional: baselines stored before it existed read as empty.
   */
  readonly attempted?: Readonly<Record<string, number>>;
  readonly transitions: Readonly<Record<string, number>>;
  readonly destinations: Readonly<Record<string, number>>;
  readonly ips: Readonly<Record<string, number>>;
  readonly geos: Readonly<Record<string, number>>;
  readonly hours: readonly number[];
  /** Largest number of actions seen in one session within any 60 s window. */
  readonly peakPerMinute: number;
  /**
   * Largest number of egress, delete and admin actions that ran in one session within a
   * `scoring.burst.windowSeconds` window. Optional: baselines stored before it existed read as 0.
   */
  readonly peakHarmful?: number;
  readonly lastSeen?: string;
  /**
   * Reviewers' feedback (core/review.ts): `<finding code>|<capability>` → the factor its
   * weight was last set to and when; it fades back to 1 in event time. Bounded by
   * MAX_FEEDBACK (the oldest entry goes). Optional: older baselines read as none.
   */
  readonly feedback?: Readonly<Record<string, { readonly factor: number; readonly at: string }>>;
}

export const MAX_FEEDBACK = 64;

export const emptyBaseline = (): Baseline => ({
  sessions: 0,
  actions: 0,
  capabilities: {},
  transitions: {},
  destinations: {},
  ips: {},
  geos: {},
  hours: Array.from({ length: 24 }, () => 0),
  peakPerMinute: 0,
});

export interface BaselineKnobs {
  readonly minSessions: number;
  readonly minActions: number;
}

/** Baselines abstain until they have seen enough history: a new agent is not "anomalous" for being new. */
export const isMature = (b: Baseline, k: BaselineKnobs): boolean => b.sessions >= k.minSessions && b.actions >= k.minActions;

type Counts = Record<string, number>;

/**
 * Counts one more `key`; a new key is dropped once the map holds `max` keys (bounded memory).
 * Keys come from events: own-property checks only, so `constructor` or `__proto__` are
 * ordinary keys (or ignored), never the prototype's members.
 */
function bump(m: Counts, key: string, max: number): void {
  if (key === "__proto__") return;
  if (Object.hasOwn(m, key)) m[key] = (m[key] as number) + 1;
  else if (Object.keys(m).length < max) m[key] = 1;
}

export interface Observation {
  readonly event: AgentEvent;
  readonly previousCapability?: string;
  readonly destinations: readonly string[];
  readonly actionsInLastMinute: number;
  /** Egress, delete and admin actions of the session within the burst window, this one included (0 when it is not one). */
  readonly harmfulInWindow?: number;
  readonly newSession: boolean;
  /** False when the action was blocked or denied: it is not learned as normal behaviour. */
  readonly ran: boolean;
  /** The session's first call of this capability (counted in `attempted`, allowed or not). */
  readonly firstAttemptInSession?: boolean;
}

/** Whether an event teaches the baselines anything: a run, a session's start, a context, an attempted action (counted in `attempted`). */
export const teaches = (event: AgentEvent, ran: boolean, newSession: boolean): boolean =>
  ran || newSession || event.context !== undefined || event.type === "action";

/**
 * Folds one observation into a baseline. Baselines are large and owned by one writer, so
 * this updates the given baseline in place and returns it (measured: copying the maps per
 * event cost 60% of replay time). Deterministic and I/O-free like the rest of the core.
 */
export function learn(b: Baseline, o: Observation): Baseline {
  const m = b as Mutable<Baseline>;
  const { event } = o;
  if (o.newSession) m.sessions++;
  if (event.context?.ip) bump(m.ips, kept(event.context.ip), 256);
  if (event.context?.geo) bump(m.geos, kept(event.context.geo), 256);
  if (!m.lastSeen || toMillis(m.lastSeen) < toMillis(event.time)) m.lastSeen = event.time;
  if (event.type === "action" && o.firstAttemptInSession) bump((m.attempted ??= {}), event.action.capability, 4096);
  if (event.type !== "action" || !o.ran) return b;
  const ms = toMillis(event.time);
  if (Number.isFinite(ms)) {
    const h = utcHour(event.time);
    m.hours[h] = (m.hours[h] ?? 0) + 1;
  }
  for (const d of o.destinations) bump(m.destinations, d, MAX_DESTINATIONS);
  m.actions++;
  bump(m.capabilities, event.action.capability, 4096);
  if (o.previousCapability) bump(m.transitions, `${o.previousCapability}>${event.action.capability}`, MAX_TRANSITIONS);
  if (o.actionsInLastMinute > m.peakPerMinute) m.peakPerMinute = o.actionsInLastMinute;
  if ((o.harmfulInWindow ?? 0) > (m.peakHarmful ?? 0)) m.peakHarmful = o.harmfulInWindow;
  return b;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends Readonly<Record<string, number>> ? Counts : T[K] extends readonly number[] ? number[] : T[K] };
