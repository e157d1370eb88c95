import { deriveId, textDigest } from "../core/ids.js";
import type { AgentEvent, ToolOutput } from "../protocol/index.js";
import { MAX_OUTPUT_TEXT, nestsDeeperThan, validateEvent } from "../protocol/index.js";

// OpenTelemetry traces of agents' tool calls as Vigil events (docs/otel.md). Pure: the
// decoder (adapters/otel/otlp-decode.ts) turns an OTLP request into OtelSpans, this turns
// them into events, and the caller publishes them and remembers what the result says of
// each session for the next request. Two dialects are read: the OpenTelemetry GenAI
// semantic conventions (`gen_ai.*`) and OpenInference (`openinference.span.kind`, used by
// Arize Phoenix and its instrumentations). Spans are exported after they end, so every
// call here has already run: this door decides and alerts, it cannot hold a call.

/** An attribute value as plain data: OTLP's AnyValue, int64 beyond 2^53 as a decimal string, bytes as base64, a non-finite double as "NaN" / "Infinity". */
export type OtelValue = string | number | boolean | null | readonly OtelValue[] | OtelRecord;
/** Attributes by key (a null-prototype object: keys are the sender's, `__proto__` included). */
export interface OtelRecord {
  readonly [key: string]: OtelValue;
}

export type OtelSpanKind = "unspecified" | "internal" | "server" | "client" | "producer" | "consumer";

export interface OtelSpanEvent {
  readonly name: string;
  readonly timeUnixNano: string;
  readonly attributes: OtelRecord;
}

/** One span as the decoder hands it over, whichever encoding it arrived in. */
export interface OtelSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: OtelSpanKind;
  /** Nanoseconds since the epoch, as a decimal string (int64 does not fit a double). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  /** The same, in whole milliseconds. */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: OtelRecord;
  /** The attributes of the resource that sent the span (`service.name`, …), shared by its spans. */
  readonly resource: OtelRecord;
  readonly scope: { readonly name: string; readonly version?: string };
  readonly status: { readonly code: "unset" | "ok" | "error"; readonly message?: string };
  readonly events: readonly OtelSpanEvent[];
  /** Keys of the attributes whose text the decoder cut at its length cap. */
  readonly cut: readonly string[];
}

/** What an earlier request told the caller about a session (mapSpans returns it in `sessions`). */
export interface KnownSession {
  /** The goal last published for the session ("" when it was started without one). */
  readonly goal: string;
  /** The time of its last event, ms since the epoch: this request's events come after it. */
  readonly lastTimeMs: number;
}

export interface OtelMapOptions {
  /** The principal of spans that name none (`user.id`, `enduser.id` on the span, an ancestor or the resource). */
  readonly defaultPrincipal: string;
  /** The agent of spans that name none (`gen_ai.agent.id`/`.name`, `agent.name`, else the resource's `service.name`); default "otel-agent". */
  readonly defaultAgent?: string;
  /**
   * What the caller remembers of a session from earlier requests; undefined for one it never
   * saw, which gets a `session.started`. Without it every session in the request is new
   * (the started event's id is derived from the session, so a repeat is a duplicate).
   */
  readonly known?: (sessionId: string) => KnownSession | undefined;
  /** The session an earlier request found for a trace (mapSpans returns them in `traces`). */
  readonly sessionOfTrace?: (traceId: string) => string | undefined;
  /** Most characters of a tool's output kept in its result event (default and at most MAX_OUTPUT_TEXT). */
  readonly maxOutputText?: number;
}

export interface OtelSpanError {
  readonly traceId: string;
  readonly spanId: string;
  readonly error: string;
}

export interface OtelMapResult {
  /** Valid events (validateEvent passed), in order within each session. */
  readonly events: AgentEvent[];
  /** Spans that are no tool call (HTTP, database, model calls, agent and chain spans), or repeat one. */
  readonly ignored: number;
  /** Tool spans that could not become an event, with the reason. */
  readonly errors: OtelSpanError[];
  /** For each session this request touched, what to remember for the next (see `known`). */
  readonly sessions: ReadonlyMap<string, KnownSession>;
  /** For each trace whose session an attribute named, that session (see `sessionOfTrace`). */
  readonly traces: ReadonlyMap<string, string>;
}

/** Where each field comes from, first match wins (docs/otel.md has the table). */
export const OTEL_KEYS = {
  session: ["gen_ai.conversation.id", "session.id"],
  principal: ["user.id", "enduser.id"],
  agentId: ["gen_ai.agent.id", "gen_ai.agent.name", "agent.name"],
  agentName: ["gen_ai.agent.name", "agent.name"],
  toolName: ["gen_ai.tool.name", "tool.name"],
  toolCallId: ["gen_ai.tool.call.id", "tool_call.id"],
  arguments: ["gen_ai.tool.call.arguments", "input.value", "tool_call.function.arguments"],
  result: ["gen_ai.tool.call.result", "output.value"],
} as const;

const MAX_ID = 512;
const MAX_GOAL = 16_384;
const MAX_TOOL = 1024;
const MAX_CAPABILITY = 256;
/** Arguments text longer than this is kept as text (cut), not parsed into `args`. */
const MAX_ARGS_TEXT = 65_536;
/** Most ancestors followed up a span's parent chain (a hostile request may make a cycle or a long chain). */
const MAX_ANCESTORS = 256;

type Role = "tool" | "agent" | "llm" | "other";

const isRecord = (v: OtelValue | undefined): v is OtelRecord => typeof v === "object" && v !== null && !Array.isArray(v);
const own = (r: OtelRecord, key: string): OtelValue | undefined => (Object.hasOwn(r, key) ? r[key] : undefined);

/** The first non-empty string among `keys`. */
function text(r: OtelRecord, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = own(r, k);
    if (typeof v === "string" && v.trim() !== "") return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

/** JSON text of a value (strings as they are). Null-prototype records stringify like plain objects. */
const asText = (v: OtelValue): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));

/** Cut at `max` UTF-16 units, never inside a surrogate pair. */
function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** UTF-8 size of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The `output` of a result, as the publisher SDK's toolOutput() makes it: cut text, full size, and a digest of the whole. */
export function spanOutput(full: string, max: number, cutBefore: boolean, mediaType?: string): ToolOutput {
  const kept = cutText(full, max);
  return {
    text: kept,
    bytes: utf8Length(full),
    truncated: cutBefore || kept.length < full.length,
    digest: textDigest(full),
    ...(mediaType !== undefined && mediaType.length <= 256 ? { mediaType } : {}),
  };
}

/** A capability is a name: runs of spaces, `*` and `?` (CrewAI's "Search the internet") become `_`. */
export const capabilityOf = (tool: string): string => cutText(tool.trim().replace(/[\s*?]+/g, "_"), MAX_CAPABILITY);

/** What a span is to Vigil, in either dialect. */
function roleOf(span: OtelSpan): Role {
  const a = span.attributes;
  const op = own(a, "gen_ai.operation.name");
  const oi = own(a, "openinference.span.kind");
  const kind = typeof oi === "string" ? oi.toUpperCase() : undefined;
  if (op === "execute_tool" || kind === "TOOL") return "tool";
  if (op === undefined && typeof own(a, "gen_ai.tool.name") === "string" && span.name.startsWith("execute_tool")) return "tool";
  if (op === "invoke_agent" || op === "invoke_workflow" || kind === "AGENT" || kind === "CHAIN") return "agent";
  if (op === "chat" || op === "text_completion" || op === "generate_content" || kind === "LLM") return "llm";
  return "other";
}

/** The user's words in a list of chat messages (GenAI `{role, parts: [{type, content}]}`, or `{role, content}`): the first user message. */
function firstUserMessage(messages: OtelValue): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (const m of messages as readonly OtelValue[]) {
    if (!isRecord(m)) continue;
    const role = own(m, "role") ?? own(m, "type");
    if (role !== "user" && role !== "human") continue;
    const content = own(m, "content");
    if (typeof content === "string" && content.trim() !== "") return content;
    const parts = own(m, "parts") ?? content;
    if (!Array.isArray(parts)) continue;
    const texts: string[] = [];
    for (const p of parts as readonly OtelValue[]) {
      if (!isRecord(p) || (own(p, "type") !== undefined && own(p, "type") !== "text")) continue;
      const words = own(p, "content") ?? own(p, "text");
      if (typeof words === "string") texts.push(words);
    }
    if (texts.length > 0) return texts.join("\n");
  }
  return undefined;
}

/** Deepest nesting of JSON arguments read (deeper is kept as text: its events could not be serialised again). */
const MAX_JSON_DEPTH = 64;

/** JSON text parsed, or undefined when it is not JSON or nests too deep (never throws). Only texts that look like JSON are tried. */
function parseJson(s: string): OtelValue | undefined {
  const t = s.trimStart();
  if (t[0] !== "{" && t[0] !== "[") return undefined;
  if (nestsDeeperThan(t, MAX_JSON_DEPTH)) return undefined;
  try {
    return JSON.parse(s) as OtelValue;
  } catch {
    return undefined;
  }
}

/** Keys of a JSON request body that hold the user's words (LangChain's `input`, LlamaIndex's `query`, …). */
const REQUEST_KEYS = ["input", "query", "question", "prompt", "task", "request", "message", "user_input"];

/** The user's request in an OpenInference `input.value`: the text, or the words inside a JSON body. */
function requestText(value: string): string {
  const parsed = parseJson(value);
  if (parsed === undefined) return value;
  if (Array.isArray(parsed)) return firstUserMessage(parsed) ?? value;
  if (!isRecord(parsed)) return value;
  const direct = text(parsed, REQUEST_KEYS);
  if (direct !== undefined) return direct;
  const messages = own(parsed, "messages");
  return (messages !== undefined ? firstUserMessage(messages) : undefined) ?? value;
}

/** Indexed, flattened messages (`llm.input_messages.0.message.role`, `gen_ai.prompt.0.content`): the first user one. */
function flattenedUserMessage(r: OtelRecord, prefix: string, role: string, content: string): string | undefined {
  for (let i = 0; i < 1024; i++) {
    const who = own(r, `${prefix}.${i}.${role}`);
    if (who === undefined) return undefined;
    const words = own(r, `${prefix}.${i}.${content}`);
    if ((who === "user" || who === "human") && typeof words === "string" && words.trim() !== "") return words;
  }
  return undefined;
}

/**
 * The user's request a span records, in the GenAI conventions (`gen_ai.input.messages`, then
 * the older `gen_ai.prompt` attribute, span event or flattened `gen_ai.prompt.N.*`) or
 * OpenInference (`llm.input_messages.N.*` on model spans, `input.value` on the others).
 */
function goalOf(span: OtelSpan, role: Role): string | undefined {
  const a = span.attributes;
  const messages = own(a, "gen_ai.input.messages");
  if (messages !== undefined) {
    const found = firstUserMessage(typeof messages === "string" ? (parseJson(messages) ?? null) : messages);
    if (found !== undefined) return found;
  }
  const event = span.events.find((e) => e.name === "gen_ai.content.prompt");
  const prompt = own(a, "gen_ai.prompt") ?? (event ? own(event.attributes, "gen_ai.prompt") : undefined);
  if (typeof prompt === "string" && prompt.trim() !== "") return firstUserMessage(parseJson(prompt) ?? null) ?? prompt;
  const flat = flattenedUserMessage(a, "gen_ai.prompt", "role", "content") ?? flattenedUserMessage(a, "llm.input_messages", "message.role", "message.content");
  if (flat !== undefined) return flat;
  const input = own(a, "input.value");
  if (role === "agent" && typeof input === "string" && input.trim() !== "") return requestText(input);
  return undefined;
}

/** Compares two non-negative decimal strings as numbers. */
const compareDecimal = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Spans of the request by trace and span id, and their parents, followed without loops. */
function indexSpans(spans: readonly OtelSpan[]) {
  const byKey = new Map<string, OtelSpan>();
  let repeats = 0;
  for (const s of spans) {
    const key = `${s.traceId}/${s.spanId}`;
    if (byKey.has(key)) repeats++;
    else byKey.set(key, s);
  }
  const parent = (s: OtelSpan): OtelSpan | undefined => (s.parentSpanId === undefined ? undefined : byKey.get(`${s.traceId}/${s.parentSpanId}`));
  /** A value from the span, else its nearest ancestor that has one; memoised, so a request costs linear work. */
  const inherited = <T>(pick: (s: OtelSpan) => T | undefined) => {
    const memo = new Map<OtelSpan, T | null>();
    return (span: OtelSpan): T | undefined => {
      const chain: OtelSpan[] = [];
      let found: T | null = null;
      for (let s: OtelSpan | undefined = span; s !== undefined && chain.length < MAX_ANCESTORS; s = parent(s)) {
        const memoised = memo.get(s);
        if (memoised !== undefined) {
          found = memoised;
          break;
        }
        if (chain.includes(s)) break; // a cycle of parent ids
        chain.push(s);
        const v = pick(s);
        if (v !== undefined) {
          found = v;
          break;
        }
      }
      for (const s of chain) memo.set(s, found);
      return found ?? undefined;
    };
  };
  // In start order: a session's first tool call names who starts it, and ties resolve the same way for any request order.
  const sorted = [...byKey.values()].sort((a, b) => compareDecimal(a.startTimeUnixNano, b.startTimeUnixNano));
  return { spans: sorted, repeats, parent, inherited };
}

interface Who {
  readonly sessionId: string;
  readonly agent: { readonly id: string; readonly name?: string };
  readonly principal: { readonly id: string };
}

/** One session's events before their times are set: sorted by `ns`, then `order`. */
interface Pending {
  readonly ns: string;
  readonly order: number;
  readonly span?: OtelSpan;
  readonly build: (time: string) => AgentEvent;
}

/** Who, what and the goal of each span; then each session's events in time order, with strictly increasing times. */
export function mapSpans(input: readonly OtelSpan[], options: OtelMapOptions): OtelMapResult {
  const { spans, repeats, parent, inherited } = indexSpans(input);
  const maxOutput = Math.max(0, Math.min(options.maxOutputText ?? MAX_OUTPUT_TEXT, MAX_OUTPUT_TEXT));
  const roles = new Map(spans.map((s) => [s, roleOf(s)]));

  // Whom each span speaks for: its own attributes, then its ancestors', then its resource's.
  const sessionAttr = inherited((s) => text(s.attributes, OTEL_KEYS.session));
  const principalAttr = inherited((s) => text(s.attributes, OTEL_KEYS.principal));
  const agentAttr = inherited((s) => {
    const id = text(s.attributes, OTEL_KEYS.agentId);
    if (id === undefined) return undefined;
    const name = text(s.attributes, OTEL_KEYS.agentName);
    return name !== undefined && name !== id ? { id, name } : { id };
  });
  // A trace's session, when some span of it names one (a GenAI `chat` span beside the tool calls).
  const traceSession = new Map<string, string>();
  for (const s of spans) {
    const id = text(s.attributes, OTEL_KEYS.session) ?? text(s.resource, OTEL_KEYS.session);
    if (id !== undefined && !traceSession.has(s.traceId)) traceSession.set(s.traceId, id);
  }
  // A long session id is hashed once per distinct string, not once per span: a megabyte id on the
  // resource shared by ten thousand spans would otherwise cost ten thousand hashes of it.
  const hashed = new Map<string, string>();
  const sessionOf = (s: OtelSpan): string => {
    const named = sessionAttr(s) ?? text(s.resource, OTEL_KEYS.session) ?? traceSession.get(s.traceId) ?? options.sessionOfTrace?.(s.traceId);
    if (named === undefined) return `otel-trace-${s.traceId}`;
    if (named.length <= MAX_ID) return named;
    let id = hashed.get(named);
    if (id === undefined) hashed.set(named, (id = deriveId("otel-session", [named])));
    return id;
  };
  const resourceAgent = (r: OtelRecord): Who["agent"] | undefined => {
    const id = text(r, OTEL_KEYS.agentId);
    if (id !== undefined) return { id };
    const service = text(r, ["service.name"]);
    return service !== undefined && !service.startsWith("unknown_service") ? { id: service } : undefined;
  };
  const whoOf = (s: OtelSpan): Who | string => {
    const principal = principalAttr(s) ?? text(s.resource, OTEL_KEYS.principal) ?? options.defaultPrincipal;
    if (principal.length > MAX_ID) return `principal: ${principal.length} characters, over the limit of ${MAX_ID}`;
    const agent = agentAttr(s) ?? resourceAgent(s.resource) ?? { id: options.defaultAgent ?? "otel-agent" };
    if (agent.id.length > MAX_ID) return `agent: ${agent.id.length} characters, over the limit of ${MAX_ID}`;
    return { sessionId: sessionOf(s), agent, principal: { id: principal } };
  };

  const errors: OtelSpanError[] = [];
  const fail = (s: OtelSpan, error: string) => void errors.push({ traceId: s.traceId, spanId: s.spanId, error });
  const pending = new Map<string, { who: Who; items: Pending[] }>();
  const add = (who: Who, item: Pending) => {
    const entry = pending.get(who.sessionId);
    if (entry) entry.items.push(item);
    else pending.set(who.sessionId, { who, items: [item] });
  };
  let ignored = repeats;

  // Tool calls: an action at the span's start, its result at its end.
  for (const s of spans) {
    if (roles.get(s) !== "tool") {
      ignored++;
      continue;
    }
    // An instrumented framework and an instrumented MCP client can both record one call: the
    // inner span repeats the outer one (same call id; without ids, the same tool).
    let up = parent(s);
    for (let hops = 0; up !== undefined && roles.get(up) !== "tool" && hops < MAX_ANCESTORS; hops++) up = parent(up);
    if (up !== undefined && up !== s && sameCall(s, up)) {
      ignored++;
      continue;
    }
    const who = whoOf(s);
    if (typeof who === "string") {
      fail(s, who);
      continue;
    }
    const tool = text(s.attributes, OTEL_KEYS.toolName) ?? s.name.replace(/^execute_tool\b\s*/, "");
    const capability = capabilityOf(tool);
    if (capability === "" || capability === "_") {
      fail(s, "tool span without a tool name (gen_ai.tool.name, tool.name or a span name)");
      continue;
    }
    const actionEventId = `otel-${s.traceId}-${s.spanId}`;
    const args = argsOf(s);
    add(who, {
      ns: s.startTimeUnixNano,
      order: 2,
      span: s,
      build: (time) => ({
        ...who,
        eventId: actionEventId,
        time,
        type: "action",
        action: { capability, tool: cutText(tool, MAX_TOOL) },
        ...(args !== undefined ? { args } : {}),
      }),
    });
    const result = resultOf(s, maxOutput);
    if (result !== undefined) {
      add(who, {
        ns: s.endTimeUnixNano,
        order: 3,
        span: s,
        build: (time) => ({ ...who, eventId: `${actionEventId}-result`, time, type: "action.result", actionEventId, ...result }),
      });
    }
  }

  // The goal of each session with tool calls here, or started before: from its agent (or chain) spans first, the root-most and earliest, else its model calls.
  const depth = (s: OtelSpan) => {
    let n = 0;
    for (let p = parent(s); p !== undefined && n < MAX_ANCESTORS; p = parent(p)) n++;
    return n;
  };
  const goals = new Map<string, { goal: string; span: OtelSpan; rank: [number, number] }>();
  for (const s of spans) {
    const role = roles.get(s);
    if (role !== "agent" && role !== "llm") continue;
    const goal = goalOf(s, role);
    if (goal === undefined) continue;
    const sessionId = sessionOf(s);
    const rank: [number, number] = [role === "agent" ? 0 : 1, depth(s)];
    const best = goals.get(sessionId);
    const order =
      best === undefined ? -1 : rank[0] - best.rank[0] || rank[1] - best.rank[1] || compareDecimal(s.startTimeUnixNano, best.span.startTimeUnixNano);
    if (order < 0) goals.set(sessionId, { goal: cutText(goal, MAX_GOAL), span: s, rank });
  }

  const events: AgentEvent[] = [];
  const sessions = new Map<string, KnownSession>();
  for (const [sessionId, found] of goals) {
    if (pending.has(sessionId) || options.known?.(sessionId) === undefined) continue;
    const who = whoOf(found.span);
    if (typeof who !== "string") pending.set(sessionId, { who, items: [] });
  }
  for (const [sessionId, { who, items }] of pending) {
    const known = options.known?.(sessionId);
    const found = goals.get(sessionId);
    const first = items.reduce((min, i) => (compareDecimal(i.ns, min) < 0 ? i.ns : min), found?.span.startTimeUnixNano ?? items[0]?.ns ?? "0");
    if (known === undefined) {
      const intent = { goal: found?.goal ?? "" };
      items.push({
        ns: first,
        order: 0,
        span: found?.span ?? items[0]?.span,
        build: (time) => ({ ...who, eventId: deriveId("otel-start", [sessionId]), time, type: "session.started", intent }),
      });
    } else if (found !== undefined && found.goal !== known.goal) {
      const s = found.span;
      const intent = { goal: found.goal };
      items.push({
        ns: s.startTimeUnixNano,
        order: 1,
        span: s,
        build: (time) => ({ ...who, eventId: `otel-${s.traceId}-${s.spanId}-intent`, time, type: "intent.updated", intent }),
      });
    }
    if (items.length === 0) continue;
    items.sort((a, b) => compareDecimal(a.ns, b.ns) || a.order - b.order);
    let last = known?.lastTimeMs ?? -1;
    let goal = known?.goal ?? "";
    const dropped = new Set<string>();
    for (const item of items) {
      // Strictly increasing event times: the processor orders a session's events by them.
      const ms = Math.max(nsToMs(item.ns), last + 1);
      const event = item.build(new Date(ms).toISOString());
      if (event.type === "action.result" && dropped.has(event.actionEventId)) continue;
      const v = validateEvent(event);
      if (!v.ok) {
        if (event.type === "action") dropped.add(event.eventId);
        if (item.span) fail(item.span, `${event.type}: ${v.error}`);
        continue;
      }
      last = ms;
      if (v.value.type === "session.started" || v.value.type === "intent.updated") goal = v.value.intent.goal;
      events.push(v.value);
    }
    if (last >= 0) sessions.set(sessionId, { goal, lastTimeMs: last });
  }

  const traces = new Map<string, string>();
  for (const [traceId, sessionId] of traceSession) traces.set(traceId, sessionId.length <= MAX_ID ? sessionId : deriveId("otel-session", [sessionId]));
  return { events, ignored, errors, sessions, traces };
}

const nsToMs = (ns: string): number => Number(BigInt(ns) / 1_000_000n);

/** Whether a tool span nested in another records the same call. */
function sameCall(inner: OtelSpan, outer: OtelSpan): boolean {
  const a = text(inner.attributes, OTEL_KEYS.toolCallId);
  const b = text(outer.attributes, OTEL_KEYS.toolCallId);
  if (a !== undefined && b !== undefined) return a === b;
  const name = text(inner.attributes, OTEL_KEYS.toolName);
  return name !== undefined && name === text(outer.attributes, OTEL_KEYS.toolName);
}

/** `args` of the action: the call's arguments when they are a JSON object, else `{ input: <text> }`. */
function argsOf(s: OtelSpan): Record<string, unknown> | undefined {
  const key = OTEL_KEYS.arguments.find((k) => own(s.attributes, k) !== undefined);
  if (key === undefined) return undefined;
  const value = own(s.attributes, key) as OtelValue;
  if (isRecord(value)) return { ...value };
  const raw = asText(value);
  if (raw.length > MAX_ARGS_TEXT) return { input: cutText(raw, MAX_ARGS_TEXT), truncated: true };
  if (typeof value === "string") {
    const parsed = parseJson(value);
    if (isRecord(parsed)) return { ...parsed };
  }
  return { input: raw };
}

/** The result event's fields, when the span recorded an output or ended in an error. */
function resultOf(s: OtelSpan, maxOutput: number): Pick<Extract<AgentEvent, { type: "action.result" }>, "outcome" | "output"> | undefined {
  const key = OTEL_KEYS.result.find((k) => own(s.attributes, k) !== undefined);
  const errorType = text(s.attributes, ["error.type"]);
  const failed = s.status.code === "error" || errorType !== undefined;
  if (key === undefined && !failed) return undefined;
  const exception = s.events.find((e) => e.name === "exception");
  const value =
    key !== undefined
      ? asText(own(s.attributes, key) as OtelValue)
      : (s.status.message ?? (exception ? text(exception.attributes, ["exception.message"]) : undefined) ?? errorType ?? "");
  const mime = text(s.attributes, ["output.mime_type"]);
  return {
    outcome: failed ? "error" : "success",
    output: spanOutput(value, maxOutput, key !== undefined && s.cut.includes(key), key === "output.value" ? mime : undefined),
  };
}
