import { MAX_KEPT_VALUE, kept } from "./limits.js";
import type { ActionEventT, ActionKind, AgentEvent, EventContext, Intent, Sensitivity } from "../protocol/index.js";
import { sensitivityRank } from "../protocol/index.js";
import type { Enforcement } from "../protocol/enforcement.js";
import { initialEnforcement } from "../protocol/enforcement.js";
import { toMillis } from "./time.js";
import type { ActionFacts, Instruction, KnownTool, ListingFacts, ResultFacts } from "./event-facts.js";
import { MAX_VALUE_CHARS } from "./reading/values.js";
import { intern, memoise } from "./reading/text.js";

// The session fold (docs/style.md, rule 1): initialSession() + evolve(state, event). evolve
// records facts only; decisions live in decide.ts and are applied by the engine.

export const RECENT_ACTIONS = 32;
export const SEEN_EVENT_IDS = 128;
export const TOUCHED_RESOURCES = 64;
/** Bound on each list a session remembers about its calls (destinations, addresses read, capabilities tried and run). */
export const SESSION_MEMORY = 64;
/** Instructions from tool outputs a session remembers (the most recent ones). */
export const MAX_EXPOSURES = 8;

/**
 * How a value entered the session through tool outputs (bits, so one value can have come
 * several ways): as a whole structured field, from trusted output, inside prose, inside an
 * order the user did not give, or from a source the user delegated to.
 */
export const SEEN = { field: 1, trusted: 2, prose: 4, instructed: 8, delegated: 16, pointed: 32, suspect: 64, goalRecord: 128 } as const;

/** An order found in third-party output (see result-facts.ts), as the session keeps it. */
export interface Exposure extends Instruction {
  /** The `action.result` that carried it: in snapshots written before session 8 only (no decision reads it, and it cost 130 bytes an order). */
  readonly eventId?: string;
  /** The call whose output it was. */
  readonly capability?: string;
}

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
  /** The call names a value the goal names (the file, page or sender the user pointed at); "address" when that value is an address the goal wrote out. */
  readonly namesGoalValue?: true | "address";
}

/** A finding a review case remembers (core/review.ts). */
export interface CaseReason {
  readonly code: string;
  readonly capability?: string;
  /** A hard finding (a rule, separation of duties, a sequence: it carried its own decision): never softened by feedback. */
  readonly hard: boolean;
}

/** The review case holding a session for a person (core/review.ts). */
export interface OpenCase {
  readonly caseId: string;
  readonly openedAt: string;
  readonly reasons: readonly CaseReason[];
  /** A just-in-time grant waiting for the reviewer (policy grants.review): granted on confirm. */
  readonly grant?: { readonly capability: string; readonly resourceId?: string; readonly ttlSeconds: number; readonly eventId: string };
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
  /** Just-in-time grants in force, with the resource they are for (when asked for one). */
  readonly jitGrants: readonly { capability: string; expiresAt: string; resourceId?: string }[];
  readonly touched: { tags: readonly string[]; maxClassification?: Sensitivity; resources: readonly string[] };
  readonly counters: { events: number; actions: number; denied: number; outOfOrder: number; alerts: number };
  readonly recent: readonly RecentAction[];
  readonly context: { current: EventContext; ips: readonly string[]; geos: readonly string[]; deviceCompliant?: boolean };
  readonly risk: { score: number; at?: string };
  readonly enforcement: Enforcement;
  /**
   * The last event ids, as `eventKey` numbers (ids run to hundreds of bytes and only
   * equality is asked of them). Snapshots written before keys were hashed hold the raw ids
   * (strings); `isDuplicate` recognises both.
   */
  readonly seenEventIds: readonly (number | string)[];
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
  /** Calls (capability and argument values, see callKey) that ran in this session, bounded. Optional like the above. */
  readonly ranCalls?: readonly string[];
  /** How often each weighted finding (code and capability) was raised in this session: repeats count less. Optional like the above. */
  readonly findings?: Readonly<Record<string, number>>;
  /** Values seen in tool outputs → how they came (SEEN bits); bounded, oldest forgotten first. Optional like the above. */
  readonly seen?: Readonly<Record<string, number>>;
  /** Orders found in third-party tool output that the goal does not give (bounded). Optional like the above. */
  readonly exposures?: readonly Exposure[];
  /** `action.result` events folded. Optional like the above. */
  readonly results?: number;
  /**
   * The agent's learned peaks when this session began (actions per minute; egress, delete
   * and admin actions per burst window): a session's own burst is measured against the
   * agent's past, never against itself. Optional like the above.
   */
  readonly peaksAtStart?: { readonly perMinute: number; readonly harmful: number };
  /**
   * Orders named more values than the session keeps (an order naming dozens of decoys, or
   * more ordered values than `seen` holds): from then on a value with no provenance at all
   * counts as ordered. Optional like the above.
   */
  readonly ordersOverflowed?: true;
  /** Object stems of the orders in sources the goal delegated to: they extend the goal (bounded). Optional like the above. */
  readonly delegatedTerms?: readonly string[];
  /** The review case holding this session for a person, until a verdict closes it (review.ts). Optional like the above. */
  readonly openCase?: OpenCase;
  /** MCP tools the session saw listed (`tools.listed`): name, server, first digest, findings raised; bounded (mcp-tools.ts). Optional like the above. */
  readonly mcpTools?: readonly KnownTool[];
  /** `tools.listed` events folded: they are not what starts a session (see firstEvent). Optional like the above. */
  readonly toolListings?: number;
  /** What people answered when a gateway asked them to confirm a held call (`step_up.answered`; `cancel` counts as declined). Optional like the above. */
  readonly stepUps?: { readonly accepted: number; readonly declined: number };
}

/** Whether a session has seen no event yet but tool listings (a gateway lists tools before the session's first call). */
export const firstEvent = (s: SessionState | undefined): boolean => s === undefined || s.counters.events === (s.toolListings ?? 0);

// What every new session starts with, shared by all of them: the fold never changes a
// state in place (every change is a new object), and these are frozen so that nothing can.
// Measured: an empty list or record of its own costs a session 16 to 150 bytes of heap.
export const NONE: readonly never[] = Object.freeze([]);
const UNTOUCHED: SessionState["touched"] = Object.freeze({ tags: NONE, resources: NONE });
const NO_CONTEXT: SessionState["context"] = Object.freeze({ current: Object.freeze({}), ips: NONE, geos: NONE });
const NO_RISK: SessionState["risk"] = Object.freeze({ score: 0 });
const NO_VALUES: Readonly<Record<string, number>> = Object.freeze({});
/** The keys of a record, counted without listing them (Object.keys allocates an array of up to MAX_SEEN_VALUES). */
const countKeys = (record: object): number => {
  let n = 0;
  for (const _ in record) n++;
  return n;
};
const isEmpty = (record: object): boolean => {
  for (const _ in record) return false;
  return true;
};

export function initialSession(event: Pick<AgentEvent, "sessionId" | "agent" | "principal">): SessionState {
  return {
    sessionId: event.sessionId,
    agentId: intern(event.agent.id),
    principalId: intern(event.principal.id),
    started: false,
    ended: false,
    grants: NONE,
    jitGrants: NONE,
    touched: UNTOUCHED,
    counters: { events: 0, actions: 0, denied: 0, outOfOrder: 0, alerts: 0 },
    recent: NONE,
    context: NO_CONTEXT,
    risk: NO_RISK,
    enforcement: initialEnforcement,
    seenEventIds: NONE,
  };
}

/**
 * A state read back from storage, with the parts a new session shares made shared again:
 * empty lists and records, an untouched `touched`, no context, and the interned names. JSON
 * gives every parsed session copies of its own; after a restart or a rebalance every hot
 * session is a parsed one. Only fields every state has are replaced, and each by an equal
 * value.
 */
export function sharingParts(s: SessionState): SessionState {
  const empty = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);
  const untouched = s.touched.tags.length === 0 && s.touched.resources.length === 0 && s.touched.maxClassification === undefined;
  const noContext = s.context.ips.length === 0 && s.context.geos.length === 0 && s.context.deviceCompliant === undefined && isEmpty(s.context.current);
  return {
    ...s,
    agentId: intern(s.agentId),
    principalId: intern(s.principalId),
    grants: empty(s.grants),
    jitGrants: empty(s.jitGrants),
    touched: untouched ? UNTOUCHED : s.touched,
    recent: empty(s.recent),
    context: noContext ? NO_CONTEXT : s.context,
  };
}

// concat, not [...list, item]: V8 builds a spread literal by appending, with room for 16
// more (measured: 128 bytes of slack per list a session keeps); concat allocates exactly.
const pushBounded = <T>(list: readonly T[], item: T, max: number): readonly T[] =>
  (list.length >= max ? list.slice(list.length - max + 1) : list).concat([item]);

type Counters = SessionState["counters"];
/**
 * The counters plus `add`, as one literal of all five fields. A spread that then overrides a
 * field builds an object with room for four in line and the fifth out of line (measured: 40
 * bytes more per session).
 */
export const addCounts = (c: Counters, add: Partial<Counters>): Counters => ({
  events: c.events + (add.events ?? 0),
  actions: c.actions + (add.actions ?? 0),
  denied: c.denied + (add.denied ?? 0),
  outOfOrder: c.outOfOrder + (add.outOfOrder ?? 0),
  alerts: c.alerts + (add.alerts ?? 0),
});

/**
 * The id window plus `key`, at most SEEN_EVENT_IDS, built by index into an array of the
 * window's size: V8 then keeps the keys as plain doubles, 8 bytes each, where concat onto a
 * shared empty list makes a generic array holding a boxed number (24 bytes) per key.
 */
function pushKey(list: SessionState["seenEventIds"], key: number): SessionState["seenEventIds"] {
  const from = list.length >= SEEN_EVENT_IDS ? list.length - SEEN_EVENT_IDS + 1 : 0;
  const out = new Array<number | string>(list.length - from + 1);
  for (let i = from; i < list.length; i++) out[i - from] = list[i] as number | string;
  out[out.length - 1] = key;
  return out;
}

const addUnique = (list: readonly string[], items: readonly string[], max: number): readonly string[] => {
  let out = list;
  for (const item of items) if (!out.includes(item)) out = pushBounded(out, item, max);
  return out;
};

const over = (s: string | undefined): boolean => s !== undefined && s.length > MAX_KEPT_VALUE;

/** The context as kept: each string capped (core/limits.ts); the event's own object when none is over. */
function keptContext(ctx: EventContext): EventContext {
  if (!over(ctx.ip) && !over(ctx.geo) && !over(ctx.network) && !over(ctx.userAgent) && !over(ctx.device?.id)) return ctx;
  const out: { -readonly [K in keyof EventContext]: EventContext[K] } = { ...ctx };
  if (ctx.ip !== undefined) out.ip = kept(ctx.ip);
  if (ctx.geo !== undefined) out.geo = kept(ctx.geo);
  if (ctx.network !== undefined) out.network = kept(ctx.network);
  if (ctx.userAgent !== undefined) out.userAgent = kept(ctx.userAgent);
  if (ctx.device?.id !== undefined) out.device = { ...ctx.device, id: kept(ctx.device.id) };
  return out;
}

function mergeContext(state: SessionState, event: EventContext | undefined): SessionState["context"] {
  if (!event) return state.context;
  const ctx = keptContext(event);
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
    capability: intern(event.action.capability),
    ...(facts.kind ? { kind: facts.kind } : {}),
    tags: facts.tags,
    ...(classification ? { classification } : {}),
    egress: facts.egress,
    external: facts.external,
    ...(facts.namesGoalValue ? { namesGoalValue: facts.namesGoalAddress === true ? ("address" as const) : (true as const) } : {}),
  };
  const tags = addUnique(state.touched.tags, facts.tags, 32);
  const resources = resourceKey ? addUnique(state.touched.resources, [resourceKey], TOUCHED_RESOURCES) : state.touched.resources;
  const same = tags === state.touched.tags && resources === state.touched.resources && maxClassification === state.touched.maxClassification;
  return {
    touched: same ? state.touched : { tags, ...(maxClassification ? { maxClassification } : {}), resources },
    counters: addCounts(state.counters, { actions: 1, denied: event.outcome === "denied" ? 1 : 0 }),
    recent: pushBounded(state.recent, recent, RECENT_ACTIONS),
    tried: addUnique(state.tried ?? NONE, [recent.capability], SESSION_MEMORY),
  };
}

/** Values a session keeps from outputs at most (the longest is MAX_VALUE_CHARS). */
export const MAX_SEEN_VALUES = 256;

/** The key of a value in `seen`: prefixed, so no value is an integer-like key (those iterate first, which would evict them last). */
export const seenKey = (value: string): string => `=${value}`;

/** Adds values with their bits to `seen` (a private copy), forgetting the oldest beyond MAX_SEEN_VALUES; returns whether an ordered value had to be forgotten to make room. */
function markSeen(seen: Record<string, number>, values: readonly string[], bits: number): boolean {
  let size = -1;
  let lostOrder = false;
  for (const v of values) {
    if (v.length > MAX_VALUE_CHARS) continue;
    const key = seenKey(v);
    if (Object.hasOwn(seen, key)) {
      seen[key] = (seen[key] as number) | bits;
      continue;
    }
    if (size < 0) size = countKeys(seen);
    if (size >= MAX_SEEN_VALUES) {
      for (const oldest in seen) {
        if (((seen[oldest] as number) & SEEN.instructed) !== 0) lostOrder = true;
        delete seen[oldest];
        break;
      }
    } else size++;
    seen[key] = bits;
  }
  return lostOrder;
}

/** One frozen list per combination of action kinds (a handful exist): orders keep a pointer, not a list of their own. */
const kindsList = memoise((key: string): readonly ActionKind[] => Object.freeze(key === "" ? [] : (key.split(" ") as ActionKind[])), 256);
const sharedKinds = (kinds: readonly ActionKind[]): readonly ActionKind[] => kindsList(kinds.join(" "));

/** Beyond this many values a session's `seen` is copied into a dictionary object (copySeen). */
const SEEN_SPREAD_LIMIT = 32;

/**
 * A private copy of `seen` to add to. A small record is spread. A large one is copied key by
 * key, in order, into an object without a prototype, which V8 keeps as a hash table: adding
 * a key to the spread copy of a large record rebuilt its hidden class and made the copy a
 * dictionary anyway (measured: about 500 µs per tool result once a long session held its
 * 256 values, 30 µs so). Same keys, same order, same JSON.
 */
function copySeen(seen: Readonly<Record<string, number>> | undefined): Record<string, number> {
  if (seen === undefined) return {};
  let n = 0;
  for (const _ in seen) if (++n > SEEN_SPREAD_LIMIT) break;
  if (n <= SEEN_SPREAD_LIMIT) return { ...seen };
  const copy = Object.create(null) as Record<string, number>;
  for (const key in seen) copy[key] = seen[key] as number;
  return copy;
}

function recordResult(state: SessionState, r: ResultFacts): Partial<SessionState> {
  const seen = copySeen(state.seen);
  const base = (r.trust === "trusted" ? SEEN.trusted : 0) | (r.delegated ? SEEN.delegated : 0);
  // A field of an output the goal pointed at (a read that named a goal's value), outside any order's passage, is part of a record the user named.
  let lost = markSeen(seen, r.fields, SEEN.field | base | (r.lookedUp === true ? SEEN.goalRecord : 0));
  // An output that gives foreign orders is an attacker's text: its prose and the record its
  // orders stand in are suspect, not merely third-party.
  const suspect = r.instructions.length > 0 ? SEEN.suspect : 0;
  lost = markSeen(seen, r.tainted, SEEN.prose | SEEN.suspect) || lost;
  lost = markSeen(seen, r.prose, (r.trust === "trusted" ? SEEN.trusted : SEEN.prose | suspect) | (r.pointed ? SEEN.pointed : 0) | base) || lost;
  lost = markSeen(seen, r.instructed ?? [], SEEN.instructed) || lost;
  let exposures = state.exposures ?? [];
  for (const i of r.instructions) {
    // The order's words are stems many sessions share: one copy of each.
    const terms = i.terms.map(intern);
    const kinds = sharedKinds(i.kinds);
    const tools = i.tools.length === 0 ? NONE : i.tools.map(intern);
    const values = i.values.length === 0 ? NONE : i.values;
    // Literals of all their fields: a spread of the order after `capability` leaves three of
    // them out of line (measured: 16 bytes more per order kept).
    const exposure: Exposure = r.capability ? { capability: r.capability, terms, kinds, tools, values } : { terms, kinds, tools, values };
    exposures = pushBounded(exposures, exposure, MAX_EXPOSURES);
  }
  const delegatedTerms = r.delegatedTerms !== undefined ? addUnique(state.delegatedTerms ?? [], r.delegatedTerms, SESSION_MEMORY) : state.delegatedTerms;
  const overflow = state.ordersOverflowed === true || r.overflow || lost;
  return {
    // An output that named nothing leaves the session the shared empty record.
    seen: isEmpty(seen) ? NO_VALUES : seen,
    results: (state.results ?? 0) + 1,
    ...(exposures.length > 0 ? { exposures } : {}),
    ...(delegatedTerms !== undefined ? { delegatedTerms } : {}),
    ...(overflow ? { ordersOverflowed: true as const } : {}),
  };
}

/** Folds one event's facts into the session. Pure; `facts` is only read for actions, `result` for action results, `listing` for tool listings. */
export function evolve(state: SessionState, event: AgentEvent, facts?: ActionFacts, result?: ResultFacts, listing?: ListingFacts): SessionState {
  const outOfOrder = state.lastEventTime !== undefined && toMillis(event.time) < toMillis(state.lastEventTime);
  const base: SessionState = {
    ...state,
    lastEventTime: outOfOrder ? state.lastEventTime : event.time,
    seenEventIds: pushKey(state.seenEventIds, eventKey(event.eventId)),
    counters: addCounts(state.counters, { events: 1, outOfOrder: outOfOrder ? 1 : 0 }),
    context: mergeContext(state, event.context),
  };
  // `base` is this call's own object: the cases below complete it in place instead of copying
  // every field of the session once more (the same keys, in the same order, as a spread).
  switch (event.type) {
    case "session.started":
      return Object.assign(base, {
        started: true,
        startedAt: event.time,
        agentId: intern(event.agent.id),
        principalId: intern(event.principal.id),
        intent: event.intent,
        grants: event.grants ?? NONE,
      });
    case "intent.updated":
      return Object.assign(base, { intent: event.intent });
    case "action":
      return Object.assign(base, recordAction(base, event, facts ?? { tags: event.resource?.sensitivity ?? [], egress: false, external: false }));
    case "action.result":
      return Object.assign(base, result ? recordResult(base, result) : { results: (base.results ?? 0) + 1 });
    case "context.changed":
      return base;
    case "grant.requested":
      return base;
    case "session.ended":
      return Object.assign(base, { ended: true });
    case "review.decided":
      return base;
    case "tools.listed": {
      const known = listing?.known ?? state.mcpTools;
      return Object.assign(base, { ...(known !== undefined && known.length > 0 ? { mcpTools: known } : {}), toolListings: (state.toolListings ?? 0) + 1 });
    }
    case "step_up.answered": {
      const accepted = event.answer === "accept" ? 1 : 0;
      const { accepted: before = 0, declined = 0 } = state.stepUps ?? {};
      return Object.assign(base, { stepUps: { accepted: before + accepted, declined: declined + 1 - accepted } });
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** What identifies a call for "the same call again": its capability and whole argument values. */
export const callKey = (capability: string, values: readonly string[] = []): string => [capability, ...values].join("|").slice(0, 512);

/** `list`, or `other` when it holds the same items in the same order (what ran is mostly what was tried): one list kept, not two. */
const sharedWith = (list: readonly string[], other: readonly string[] | undefined): readonly string[] =>
  other !== undefined && other.length === list.length && list.every((x, i) => x === other[i]) ? other : list;

/** Remembers an action that ran: its capability, the call (see callKey), the destinations it vouches for, the addresses a read named (bounded, oldest forgotten first). */
export const rememberRun = (
  state: SessionState,
  capability: string,
  vouched: readonly string[],
  readAddresses: readonly string[] = [],
  key?: string,
): SessionState => ({
  ...state,
  ran: sharedWith(addUnique(state.ran ?? NONE, [intern(capability)], SESSION_MEMORY), state.tried),
  ...(key !== undefined ? { ranCalls: addUnique(state.ranCalls ?? [], [key], SESSION_MEMORY) } : {}),
  ...(vouched.length > 0 ? { destinations: addUnique(state.destinations ?? [], vouched, SESSION_MEMORY) } : {}),
  ...(readAddresses.length > 0 ? { readAddresses: addUnique(state.readAddresses ?? [], readAddresses, SESSION_MEMORY) } : {}),
});

let lastId: string | undefined;
let lastKey = 0;

/**
 * The key a session remembers an event id by: 53 bits of two 32-bit FNV-1a hashes of its
 * UTF-16 code units (different offsets), as a number — 16 bytes on the heap where the id
 * takes its length and more. Not a cryptographic hash, and it need not be: the ids of a
 * session's events come from its own producers, who can repeat an id outright.
 */
export function eventKey(eventId: string): number {
  // One event asks twice (is it a duplicate? then evolve remembers it): the last key is kept.
  if (eventId === lastId) return lastKey;
  let a = 0x811c9dc5;
  let b = 0x6c62272e;
  for (let i = 0; i < eventId.length; i++) {
    const c = eventId.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  lastId = eventId;
  lastKey = (a >>> 0) * 0x200000 + (b >>> 11);
  return lastKey;
}

export const isDuplicate = (state: SessionState | undefined, eventId: string): boolean => {
  if (state === undefined) return false;
  const key = eventKey(eventId);
  // The raw id: snapshots from before the ids were hashed.
  return state.seenEventIds.some((seen) => seen === key || seen === eventId);
};
