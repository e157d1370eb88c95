import type { ActionEventT, AgentEvent, EventContext, Intent, Sensitivity } from "../protocol/index.js";
import { sensitivityRank } from "../protocol/index.js";
import type { Enforcement } from "../protocol/enforcement.js";
import { initialEnforcement } from "../protocol/enforcement.js";
import { toMillis } from "./time.js";

// The session fold (STYLE.md, rule 1): initialSession() + evolve(state, event). evolve
// records facts only; decisions live in decide.ts and are applied by the engine.

export const RECENT_ACTIONS = 32;
export const SEEN_EVENT_IDS = 128;
export const TOUCHED_RESOURCES = 64;
/** Bound on each list a session remembers about its calls (destinations, addresses read, capabilities tried and run). */
export const SESSION_MEMORY = 64;

export interface RecentAction {
  readonly eventId: string;
  readonly time: string;
  /** `time` in epoch milliseconds, parsed once. */
  readonly ms: number;
  readonly capability: string;
  readonly kind?: string;
  readonly tags: readonly string[];
  readonly classification?: Sensitivity;
  readonly egress: boolean;
  readonly external: boolean;
}

export interface SessionState {
  readonly sessionId: string;
  readonly agentId: string;
  readonly principalId: string;
  readonly started: boolean;
  readonly ended: boolean;
  readonly startedAt?: string;
  readonly lastEventTime?: string;
  readonly intent?: Intent;
  readonly grants: readonly string[];
  readonly jitGrants: readonly { capability: string; expiresAt: string }[];
  readonly touched: { tags: readonly string[]; maxClassification?: Sensitivity; resources: readonly string[] };
  readonly counters: { events: number; actions: number; denied: number; outOfOrder: number; alerts: number };
  readonly recent: readonly RecentAction[];
  readonly context: { current: EventContext; ips: readonly string[]; geos: readonly string[]; deviceCompliant?: boolean };
  readonly risk: { score: number; at?: string };
  readonly enforcement: Enforcement;
  readonly seenEventIds: readonly string[];
  /**
   * Destinations (recipients, channels, links, accounts) named by actions of this session
   * that were allowed to run: a later call naming one of them has provenance in the session.
   * Optional: snapshots written before it existed read as empty.
   */
  readonly destinations?: readonly string[];
  /** Addresses (links, e-mail addresses, accounts) that reads which ran named: they explain later mentions, never destinations. Optional like the above. */
  readonly readAddresses?: readonly string[];
  /** Capabilities this session attempted (allowed or not), bounded. Optional like the above. */
  readonly tried?: readonly string[];
  /** Capabilities that ran in this session (allowed by Vigil and not denied where they ran), bounded. Optional like the above. */
  readonly ran?: readonly string[];
  /** How often each weighted finding (code and capability) was raised in this session: repeats count less. Optional like the above. */
  readonly findings?: Readonly<Record<string, number>>;
}

export function initialSession(event: Pick<AgentEvent, "sessionId" | "agent" | "principal">): SessionState {
  return {
    sessionId: event.sessionId,
    agentId: event.agent.id,
    principalId: event.principal.id,
    started: false,
    ended: false,
    grants: [],
    jitGrants: [],
    touched: { tags: [], resources: [] },
    counters: { events: 0, actions: 0, denied: 0, outOfOrder: 0, alerts: 0 },
    recent: [],
    context: { current: {}, ips: [], geos: [] },
    risk: { score: 0 },
    enforcement: initialEnforcement,
    seenEventIds: [],
  };
}

/** What the engine knows about an action beyond its raw fields (kind and egress inferred from the tool catalog). */
export interface ActionFacts {
  readonly kind?: string;
  readonly tags: readonly string[];
  readonly egress: boolean;
  readonly external: boolean;
}

const pushBounded = <T>(list: readonly T[], item: T, max: number): readonly T[] =>
  list.length >= max ? [...list.slice(list.length - max + 1), item] : [...list, item];

const addUnique = (list: readonly string[], items: readonly string[], max: number): readonly string[] => {
  let out = list;
  for (const item of items) if (!out.includes(item)) out = pushBounded(out, item, max);
  return out;
};

function mergeContext(state: SessionState, ctx: EventContext | undefined): SessionState["context"] {
  if (!ctx) return state.context;
  const current = { ...state.context.current, ...ctx, device: { ...state.context.current.device, ...ctx.device } };
  return {
    current,
    ips: ctx.ip ? addUnique(state.context.ips, [ctx.ip], 16) : state.context.ips,
    geos: ctx.geo ? addUnique(state.context.geos, [ctx.geo], 16) : state.context.geos,
    deviceCompliant: current.device.compliant ?? state.context.deviceCompliant,
  };
}

function recordAction(state: SessionState, event: ActionEventT, facts: ActionFacts): Partial<SessionState> {
  const classification = event.resource?.classification;
  const maxClassification =
    classification && (!state.touched.maxClassification || sensitivityRank(classification) > sensitivityRank(state.touched.maxClassification))
      ? classification
      : state.touched.maxClassification;
  const resourceKey = event.resource?.id ? `${event.resource.type ?? "resource"}:${event.resource.id}` : undefined;
  const recent: RecentAction = {
    eventId: event.eventId,
    time: event.time,
    ms: toMillis(event.time),
    capability: event.action.capability,
    ...(facts.kind ? { kind: facts.kind } : {}),
    tags: facts.tags,
    ...(classification ? { classification } : {}),
    egress: facts.egress,
    external: facts.external,
  };
  return {
    touched: {
      tags: addUnique(state.touched.tags, facts.tags, 32),
      ...(maxClassification ? { maxClassification } : {}),
      resources: resourceKey ? addUnique(state.touched.resources, [resourceKey], TOUCHED_RESOURCES) : state.touched.resources,
    },
    counters: {
      ...state.counters,
      actions: state.counters.actions + 1,
      denied: state.counters.denied + (event.outcome === "denied" ? 1 : 0),
    },
    recent: pushBounded(state.recent, recent, RECENT_ACTIONS),
    tried: addUnique(state.tried ?? [], [event.action.capability], SESSION_MEMORY),
  };
}

/** Folds one event's facts into the session. Pure; `facts` is only read for actions. */
export function evolve(state: SessionState, event: AgentEvent, facts?: ActionFacts): SessionState {
  const outOfOrder = state.lastEventTime !== undefined && toMillis(event.time) < toMillis(state.lastEventTime);
  const base: SessionState = {
    ...state,
    lastEventTime: outOfOrder ? state.lastEventTime : event.time,
    seenEventIds: pushBounded(state.seenEventIds, event.eventId, SEEN_EVENT_IDS),
    counters: { ...state.counters, events: state.counters.events + 1, outOfOrder: state.counters.outOfOrder + (outOfOrder ? 1 : 0) },
    context: mergeContext(state, event.context),
  };
  switch (event.type) {
    case "session.started":
      return {
        ...base,
        started: true,
        startedAt: event.time,
        agentId: event.agent.id,
        principalId: event.principal.id,
        intent: event.intent,
        grants: event.grants ?? [],
      };
    case "intent.updated":
      return { ...base, intent: event.intent };
    case "action":
      return { ...base, ...recordAction(base, event, facts ?? { tags: event.resource?.sensitivity ?? [], egress: false, external: false }) };
    case "action.result":
      return base;
    case "context.changed":
      return base;
    case "grant.requested":
      return base;
    case "session.ended":
      return { ...base, ended: true };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** Remembers an action that ran: its capability, the destinations it vouches for, the addresses a read named (bounded, oldest forgotten first). */
export const rememberRun = (state: SessionState, capability: string, vouched: readonly string[], readAddresses: readonly string[] = []): SessionState => ({
  ...state,
  ran: addUnique(state.ran ?? [], [capability], SESSION_MEMORY),
  ...(vouched.length > 0 ? { destinations: addUnique(state.destinations ?? [], vouched, SESSION_MEMORY) } : {}),
  ...(readAddresses.length > 0 ? { readAddresses: addUnique(state.readAddresses ?? [], readAddresses, SESSION_MEMORY) } : {}),
});

export const isDuplicate = (state: SessionState | undefined, eventId: string): boolean =>
  state !== undefined && state.seenEventIds.includes(eventId);
