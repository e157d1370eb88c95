import type { ActionKind, AgentEvent, ListedTool, OutputTrust, ToolOutput, Verdict } from "../protocol/index.js";
import { CapabilityName, MAX_LISTED_TOOLS, MAX_TOOL_DESCRIPTION, MAX_TOOL_PARAMETERS, MAX_TOOL_TEXT } from "../protocol/event.js";
import type { CompiledPolicy } from "../core/index.js";
import { readListing } from "../core/mcp-tools.js";
import type { KnownTool } from "../core/event-facts.js";

// What the MCP gateway (`vigil mcp`, docs/mcp.md) does with one MCP session's tool calls,
// over small ports: each `tools/call` becomes an `action` event (capability = the tool's
// name, kind from its catalog entry, the call's arguments), held until the processor has
// decided on it (the enforcer's `decided`, then `check`); allowed calls go on to the tool
// server and their results become `action.result` events, published before the client sees
// them; denied calls never reach the server. `step_up` asks the person (MCP elicitation)
// when the client can be asked. In `monitor` mode everything is published and nothing held.
// Every `tools/list` result becomes `tools.listed` events (the tools' texts and digests, for
// Vigil's findings on poisoned, changed and shadowing tools); when the policy `hide`s a
// finding, the listing the client gets in `enforce` mode leaves out the tools Vigil removed
// for it. The transport side (which bytes go where) is adapters/mcp/relay.ts; this is the decision.

/** The `_meta` key of `initialize` and `tools/call` requests that carries the user's goal. */
export const GOAL_META_KEY = "vigil/goal";

export interface McpGuardPorts {
  /** Publishes an event; resolves once Kafka has it. */
  publish(event: AgentEvent): Promise<void>;
  /** Resolves true once Vigil's state for the session reflects an event at or after `time`. */
  decided(sessionId: string, time: string, timeoutMs: number): Promise<boolean>;
  check(sessionId: string, capability: string): Verdict;
  /**
   * Why the session is held, in one sentence (the `explanation` of the restricting command
   * its state names last), once known; undefined when none comes soon or the gateway cannot
   * tell. Optional: without it, refusals and questions name the verdict's reason only.
   */
  why?(sessionId: string): Promise<string | undefined>;
  /** The wall clock, milliseconds since the epoch. */
  now(): number;
  newId(): string;
  /** The `output` of an `action.result` for a tool's text (capped, with its size and digest). */
  output(text: string): ToolOutput;
  /** A digest of a text (a tool's definition, to notice when it changes). */
  digest(text: string): string;
  /** Kind and output trust of a tool, from its catalog entry (`tools/list`); undefined when unknown. */
  classify(tool: Readonly<Record<string, unknown>>): { readonly kind?: ActionKind; readonly trust?: OutputTrust };
  log(message: string, fields: Readonly<Record<string, unknown>>): void;
}

export interface McpGuardOptions {
  readonly mode: "enforce" | "monitor";
  /** How long a call waits for Vigil's decision (ms). */
  readonly holdMs: number;
  /** What a call does when no decision came within `holdMs`: `closed` refuses it (default), `open` lets it run. */
  readonly failMode: "closed" | "open";
  readonly sessionId: string;
  readonly agent: { readonly id: string };
  readonly principal: { readonly id: string; readonly roles?: readonly string[] };
  /** The session's declared goal (`--goal`); else the client's `_meta` supplies it, or there is none. */
  readonly goal?: string;
  /** The upstream server's name, for the results' `source.origin`. */
  readonly server: string;
  /**
   * A tool whose definition changes after the session listed it (a "rug pull"): `hold` its
   * calls (default), or only `report` it in the log.
   */
  readonly onToolChange?: "hold" | "report";
  /** The server that listed a tool (several servers behind one gateway: its name's prefix); default `server`. */
  readonly serverOf?: (tool: string) => string;
  /**
   * The policy the processor decides with (the same file): when its `mcp` section `hide`s a
   * finding, the listings relayed in `enforce` mode leave out the tools Vigil removed for it,
   * found by reading each listing as the processor does. Absent: nothing is hidden.
   */
  readonly policy?: CompiledPolicy;
}

/** A call the guard holds: the tool's name and arguments, and the request's `_meta`. */
export interface GuardedCall {
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

export type GuardAnswer = { readonly result: Readonly<Record<string, unknown>> } | { readonly error: { readonly code: number; readonly message: string } };

export type GuardRuling =
  | { readonly forward: true; readonly answered: (answer: GuardAnswer) => Promise<GuardAnswer> }
  | { readonly forward: false; readonly result: Readonly<Record<string, unknown>> };

/** A question for the person behind the client; undefined when the client cannot be asked. */
export type GuardAsk = ((message: string) => Promise<"accept" | "decline" | "cancel">) | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const MAX_CATALOG = 4096;
/** Characters of a tool's output read into its result event's text and digest (the event keeps at most 65,536 of them). */
const MAX_RESULT_TEXT = 16 * 1024 * 1024;

/** JSON with object keys sorted, so equal definitions read the same whatever the server's key order. */
function canonicalJson(v: unknown, depth = 0): string {
  if (depth > 32) return '"…"';
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x, depth + 1)).join(",")}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k], depth + 1)}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

/** What an agent reads of a tool, whose change after the session saw it matters: all of it (its digest is kept, not it). */
const definitionOf = (t: Record<string, unknown>): string =>
  canonicalJson({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    annotations: t.annotations,
  });

/** Characters of the tools' texts one `tools.listed` event carries at most: with names and digests, well inside the 1 MiB message a processor accepts by default. */
const MAX_LISTING_CHARS = 128 * 1024;
/** How deep a tool's input schema is read for parameter descriptions. */
const MAX_SCHEMA_DEPTH = 6;

/** `text` cut to `max` characters, never inside a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** The parameter descriptions of an input schema, by path (`entities[].name`), depth first, at most `max`. */
function parameterTexts(schema: unknown, max: number): { name: string; description: string }[] {
  const out: { name: string; description: string }[] = [];
  const walk = (node: unknown, path: string, depth: number) => {
    if (!isObject(node) || depth > MAX_SCHEMA_DEPTH || out.length > max) return;
    if (path !== "" && typeof node.description === "string" && node.description !== "") out.push({ name: path, description: node.description });
    if (isObject(node.properties)) for (const [k, v] of Object.entries(node.properties)) walk(v, path === "" ? k : `${path}.${k}`, depth + 1);
    if (node.items !== undefined) walk(node.items, `${path}[]`, depth + 1);
    for (const k of ["anyOf", "oneOf", "allOf"]) if (Array.isArray(node[k])) for (const v of node[k] as unknown[]) walk(v, path, depth + 1);
  };
  walk(schema, "", 0);
  return out;
}

/**
 * A listed tool as the `tools.listed` event carries it (contract v1.3): name, server, the
 * digest of the whole definition, and the texts an agent reads, each cut to its cap
 * (`truncated` then). Undefined for a tool whose name is no capability name (its calls
 * could not be published either).
 */
export function listedTool(t: Readonly<Record<string, unknown>>, server: string, digest: string): ListedTool | undefined {
  if (!CapabilityName.safeParse(t.name).success) return undefined;
  let truncated = false;
  const text = (v: unknown, max: number): string | undefined => {
    if (typeof v !== "string" || v === "") return undefined;
    if (v.length > max) truncated = true;
    return cut(v, max);
  };
  const title = text(t.title, MAX_TOOL_TEXT);
  const description = text(t.description, MAX_TOOL_DESCRIPTION);
  const annotationTitle = isObject(t.annotations) ? text(t.annotations.title, MAX_TOOL_TEXT) : undefined;
  const found = parameterTexts(t.inputSchema, MAX_TOOL_PARAMETERS);
  if (found.length > MAX_TOOL_PARAMETERS) truncated = true;
  const parameters = found.slice(0, MAX_TOOL_PARAMETERS).map((p) => ({ name: cut(p.name, 256), description: text(p.description, MAX_TOOL_TEXT) ?? "" }));
  if (found.some((p) => p.name.length > 256)) truncated = true;
  return {
    name: t.name as string,
    server: cut(server, 256),
    digest: cut(digest, 1024),
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(annotationTitle !== undefined ? { annotations: { title: annotationTitle } } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(truncated ? { truncated: true } : {}),
  };
}

const textSize = (t: ListedTool): number =>
  (t.title?.length ?? 0) +
  (t.description?.length ?? 0) +
  (t.annotations?.title?.length ?? 0) +
  (t.parameters ?? []).reduce((n, p) => n + p.name.length + p.description.length, 0);

/** A listing cut into the tools of one event each: at most MAX_LISTED_TOOLS and MAX_LISTING_CHARS of text (a single tool always fits: its caps add up to less). */
export function packListing(tools: readonly ListedTool[]): ListedTool[][] {
  const out: ListedTool[][] = [];
  let current: ListedTool[] = [];
  let size = 0;
  for (const t of tools) {
    const n = textSize(t);
    if (current.length > 0 && (current.length >= MAX_LISTED_TOOLS || size + n > MAX_LISTING_CHARS)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** A tool error the client's model reads: what was held and why (with Vigil's sentence, when one is known), nothing of Vigil's internals. */
export const heldResult = (tool: string, reason: string, why?: string): Record<string, unknown> => ({
  isError: true,
  content: [{ type: "text", text: `Vigil held this call to ${tool}: ${reason}. It was not run.${why !== undefined ? ` Why: ${why}` : ""}` }],
});

/**
 * The text of a CallToolResult as the agent reads it, one pass: text parts, embedded text
 * resources, links by name and URI, other media by type; the structured content as JSON when
 * no part carries text. Cut at `max` characters (the event's cap cuts again, exactly).
 */
export function resultText(result: Readonly<Record<string, unknown>>, max: number): string {
  const parts: string[] = [];
  let size = 0;
  const add = (s: string) => {
    if (size >= max) return;
    const piece = s.length > max - size ? s.slice(0, max - size) : s;
    parts.push(piece);
    size += piece.length + 1;
  };
  const content = Array.isArray(result.content) ? result.content : [];
  for (const c of content) {
    if (!isObject(c)) continue;
    if (c.type === "text" && typeof c.text === "string") add(c.text);
    else if (c.type === "resource" && isObject(c.resource) && typeof c.resource.text === "string") add(c.resource.text);
    else if (c.type === "resource_link") add(`[link ${typeof c.name === "string" ? c.name : ""} ${typeof c.uri === "string" ? c.uri : ""}]`);
    else if (typeof c.type === "string") add(`[${c.type}${typeof c.mimeType === "string" ? ` ${c.mimeType}` : ""}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined) add(JSON.stringify(result.structuredContent));
  return parts.join("\n");
}

/** One MCP session's guard: its catalog, its goal, and the ruling on each call. */
export function createMcpGuard(options: McpGuardOptions, ports: McpGuardPorts) {
  const catalog = new Map<string, { kind?: ActionKind; trust?: OutputTrust }>();
  /** The digest of each tool's definition as the session first listed it, and the tools whose definition changed since. */
  const definitions = new Map<string, string>();
  const changed = new Set<string>();
  const serverOf = options.serverOf ?? (() => options.server);
  /** With a policy that hides a finding: the session's tools as the processor keeps them, and the tools whose findings it hides. */
  const policy = options.policy;
  const hiding = options.mode === "enforce" && policy !== undefined && Object.values(policy.mcp).includes("hide");
  let known: readonly KnownTool[] = [];
  const hideable = new Set<string>();
  let goal: string | undefined = options.goal;
  let started: Promise<void> | undefined;
  let published = goal;
  const principal = options.principal.roles ? { id: options.principal.id, roles: [...options.principal.roles] } : { id: options.principal.id };
  const who = () => ({ sessionId: options.sessionId, agent: { id: options.agent.id }, principal });
  // Event times strictly increase within the session: the enforcer's `decided` waits for the
  // processor to reach a time, so two calls in the same millisecond must not share one.
  let lastTime = 0;
  const time = (): string => {
    lastTime = Math.max(ports.now(), lastTime + 1);
    return new Date(lastTime).toISOString();
  };
  const base = () => ({ ...who(), eventId: ports.newId(), time: time() });

  const start = (): Promise<void> =>
    (started ??= ports.publish({ ...base(), type: "session.started", intent: { goal: goal ?? "" } } as AgentEvent).then(
      () => {
        published = goal;
      },
      (e: unknown) => {
        started = undefined; // the next call tries again
        throw e;
      },
    ));

  async function intentFrom(meta: Readonly<Record<string, unknown>> | undefined): Promise<void> {
    const asked = meta?.[GOAL_META_KEY];
    if (options.goal === undefined && typeof asked === "string" && asked.trim() !== "") goal = asked;
    await start();
    if (goal !== undefined && goal !== published) {
      published = goal;
      await ports.publish({ ...base(), type: "intent.updated", intent: { goal } } as AgentEvent);
    }
  }

  return {
    initialize(params: Readonly<Record<string, unknown>>): void {
      const meta = isObject(params._meta) ? params._meta : undefined;
      const asked = meta?.[GOAL_META_KEY];
      if (options.goal === undefined && typeof asked === "string" && asked.trim() !== "") goal = asked;
    },

    /**
     * A `tools/list` result, before the client sees it: the catalog and the local rug-pull
     * check, then the listing published as `tools.listed`; returns the tools to relay when
     * some are left out (a `hide` finding Vigil acted on), else undefined.
     */
    async tools(tools: readonly unknown[]): Promise<readonly unknown[] | undefined> {
      const listed: ListedTool[] = [];
      let unnamed = 0;
      for (const t of tools) {
        if (!isObject(t) || typeof t.name !== "string") continue;
        if (catalog.size >= MAX_CATALOG && !catalog.has(t.name)) break;
        catalog.set(t.name, ports.classify(t));
        const digest = ports.digest(definitionOf(t));
        const first = definitions.get(t.name);
        if (first === undefined) definitions.set(t.name, digest);
        else if (first !== digest && !changed.has(t.name)) {
          changed.add(t.name);
          ports.log("mcp: a tool's definition changed after the session listed it (a rug pull?)", {
            sessionId: options.sessionId,
            tool: t.name,
            action: options.mode === "enforce" && options.onToolChange !== "report" ? "its calls are held" : "reported only",
          });
        }
        const entry = listedTool(t, serverOf(t.name), digest);
        if (entry === undefined) unnamed++;
        else listed.push(entry);
      }
      if (unnamed > 0)
        ports.log("mcp: tools whose name is no capability name are not published (their calls cannot be either)", {
          sessionId: options.sessionId,
          count: unnamed,
        });
      if (listed.length === 0) return undefined;
      // Read as the processor reads it: which tools a `hide` finding concerns (the processor's decision says whether they were removed).
      let fresh = false;
      if (hiding) {
        const read = readListing(policy, known, listed);
        known = read.known;
        for (const f of read.findings)
          if (policy.mcp[f.kind] === "hide" && !hideable.has(f.tool)) {
            hideable.add(f.tool);
            fresh = true;
          }
      }
      let last: string | undefined;
      try {
        for (const part of packListing(listed)) {
          const event = { ...base(), type: "tools.listed", tools: part } as AgentEvent;
          last = event.time;
          await ports.publish(event);
        }
      } catch (e) {
        ports.log("mcp: a tool listing could not be published", { sessionId: options.sessionId, error: String(e) });
        last = undefined;
      }
      if (!hiding || hideable.size === 0) return undefined;
      // Only a listing with a new `hide` finding waits for Vigil: for the others, its decision is known already.
      const decided = fresh ? last !== undefined && (await ports.decided(options.sessionId, last, options.holdMs)) : true;
      if (!decided) {
        ports.log("mcp: no decision on a tool listing within the hold time", {
          sessionId: options.sessionId,
          holdMs: options.holdMs,
          failMode: options.failMode,
        });
      }
      // Closed without a decision: every tool a `hide` finding concerns is left out. Open: only those Vigil has removed
      // already (earlier listings' findings stay hidden; the new ones are listed until decided).
      const byState = decided || options.failMode === "open";
      const hidden = (t: unknown) =>
        isObject(t) && typeof t.name === "string" && hideable.has(t.name) && (!byState || ports.check(options.sessionId, t.name).outcome === "deny");
      const kept = tools.filter((t) => !hidden(t));
      return kept.length === tools.length ? undefined : kept;
    },

    /** Whether the session has a declared goal (the session status says so in docs/mcp.md). */
    get goal(): string | undefined {
      return goal;
    },

    async call(call: GuardedCall, ask: GuardAsk, signal: AbortSignal): Promise<GuardRuling> {
      await intentFrom(call.meta);
      const entry = catalog.get(call.name);
      const action = {
        ...base(),
        type: "action",
        action: { capability: call.name, tool: call.name, ...(entry?.kind ? { kind: entry.kind } : {}) },
        args: { ...call.arguments },
      } as AgentEvent;
      // In enforce mode the wait for Vigil's decision starts with the publication: the
      // processor can read the action as soon as the broker has appended it, before the
      // broker's acknowledgement is back here. A failed publication still fails the call.
      const published = ports.publish(action);
      const forward: GuardRuling = {
        forward: true,
        answered: async (answer) => {
          const isError = "error" in answer || answer.result.isError === true;
          const text = "error" in answer ? answer.error.message : resultText(answer.result, MAX_RESULT_TEXT);
          await ports.publish({
            ...base(),
            type: "action.result",
            actionEventId: action.eventId,
            outcome: isError ? "error" : "success",
            output: ports.output(text),
            source: { ...(entry?.trust ? { trust: entry.trust } : {}), origin: `mcp:${options.server}/${call.name}` },
          } as AgentEvent);
          return answer;
        },
      };
      if (options.mode === "monitor") {
        await published;
        return forward;
      }
      if (changed.has(call.name) && options.onToolChange !== "report") {
        await published;
        return { forward: false, result: heldResult(call.name, "its definition changed after this session listed it") };
      }
      const [decided] = await Promise.all([ports.decided(options.sessionId, action.time, options.holdMs), published]);
      if (signal.aborted) return { forward: false, result: heldResult(call.name, "the call was cancelled") };
      if (!decided) {
        ports.log("mcp: no decision within the hold time", {
          sessionId: options.sessionId,
          tool: call.name,
          holdMs: options.holdMs,
          failMode: options.failMode,
        });
        if (options.failMode === "closed") return { forward: false, result: heldResult(call.name, `Vigil did not decide within ${options.holdMs} ms`) };
        return forward;
      }
      const verdict = ports.check(options.sessionId, call.name);
      if (verdict.outcome === "allow") return forward;
      // The sentence a person can act on (core/explain.ts), when the gateway can read it.
      const why = (await ports.why?.(options.sessionId).catch(() => undefined)) ?? undefined;
      if (verdict.outcome === "step_up" && ask !== undefined) {
        const answer = await ask(
          `Vigil asks you to confirm before the agent calls ${call.name} (${verdict.reason}).${why !== undefined ? ` Why: ${why}` : ""} Accept to let it run.`,
        );
        // The answer is on the session's record before the call runs or is refused (contract
        // v1.4); a confirmation that could not be recorded does not run the call.
        await ports.publish({ ...base(), type: "step_up.answered", actionEventId: action.eventId, answer, channel: "mcp-elicitation" } as AgentEvent);
        if (answer === "accept" && !signal.aborted) return forward;
        return { forward: false, result: heldResult(call.name, `${verdict.reason}; the person asked did not confirm`, why) };
      }
      return { forward: false, result: heldResult(call.name, verdict.reason, why) };
    },
  };
}
