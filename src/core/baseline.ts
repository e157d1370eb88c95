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
  readonly transitions: Readonly<Record<string, number>>;
  readonly destinations: Readonly<Record<string, number>>;
  readonly ips: Readonly<Record<string, number>>;
  readonly geos: Readonly<Record<string, number>>;
  readonly hours: readonly number[];
  /** Largest number of actions seen in one session within any 60 s window. */
  readonly peakPerMinute: number;
  readonly lastSeen?: string;
}

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

const bump = (m: Readonly<Record<string, number>>, key: string, max: number): Record<string, number> => {
  if (key in m) return { ...m, [key]: (m[key] ?? 0) + 1 };
  if (Object.keys(m).length >= max) return { ...m };
  return { ...m, [key]: 1 };
};

export interface Observation {
  readonly event: AgentEvent;
  readonly previousCapability?: string;
  readonly destinations: readonly string[];
  readonly actionsInLastMinute: number;
  readonly newSession: boolean;
  /** False when the action was blocked or denied: it is not learned as normal behaviour. */
  readonly ran: boolean;
}

export function learn(b: Baseline, o: Observation): Baseline {
  const { event } = o;
  let next: Baseline = {
    ...b,
    sessions: b.sessions + (o.newSession ? 1 : 0),
    ips: event.context?.ip ? bump(b.ips, event.context.ip, 256) : b.ips,
    geos: event.context?.geo ? bump(b.geos, event.context.geo, 256) : b.geos,
    lastSeen: b.lastSeen && b.lastSeen > event.time ? b.lastSeen : event.time,
  };
  if (event.type !== "action" || !o.ran) return next;
  const hours = [...b.hours];
  const h = utcHour(event.time);
  if (Number.isFinite(toMillis(event.time))) hours[h] = (hours[h] ?? 0) + 1;
  let destinations = b.destinations;
  for (const d of o.destinations) destinations = bump(destinations, d, MAX_DESTINATIONS);
  next = {
    ...next,
    actions: b.actions + 1,
    capabilities: bump(b.capabilities, event.action.capability, 4096),
    transitions: o.previousCapability ? bump(b.transitions, `${o.previousCapability}>${event.action.capability}`, MAX_TRANSITIONS) : b.transitions,
    destinations,
    hours,
    peakPerMinute: Math.max(b.peakPerMinute, o.actionsInLastMinute),
  };
  return next;
}
