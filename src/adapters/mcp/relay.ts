import { randomUUID } from "node:crypto";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { GuardAnswer, GuardAsk, GuardedCall, GuardRuling } from "../../app/mcp-guard.js";

// One MCP session through the gateway: the client's transport (downstream) joined to one
// upstream server's transport, message for message. Everything passes through unchanged —
// requests, responses, notifications and the server's own requests to the client (sampling,
// elicitation, roots) — except `tools/call`, which the guard holds until Vigil has decided:
// forwarded when allowed (its result goes through the guard before the client sees it),
// answered with a tool error when not, never sent upstream undecided. `tools/list` results
// go through the guard before the client sees them (the catalog, and the listing Vigil
// reads): it may leave tools out, and nothing else of the result changes. The relay keeps
// no copy of the traffic: per session it keeps the ids of requests in flight, bounded by
// what the client has outstanding.

/** The guard's types are the app layer's (app/mcp-guard.ts); a transport-side name for each. */
export type { GuardedCall as ToolCall, GuardAnswer as ToolAnswer, GuardRuling as Ruling, GuardAsk as Ask } from "../../app/mcp-guard.js";

export interface Guard {
  /** The client's `initialize` parameters (capabilities, clientInfo, `_meta`), before they go upstream. */
  initialize(params: Readonly<Record<string, unknown>>): void;
  /**
   * Every `tools/list` result the upstream returns, before the client sees it: the tools to
   * relay instead (some left out), or undefined (or nothing) to relay the result as it is.
   */
  tools(tools: readonly unknown[]): Promise<readonly unknown[] | undefined> | void;
  /** Rules on a call; `signal` aborts when the client cancels it or goes away. */
  call(call: GuardedCall, ask: GuardAsk, signal: AbortSignal): Promise<GuardRuling>;
}

export interface RelayOptions {
  /** Reports what went wrong without stopping the session (a guard that threw, a transport error). */
  readonly log?: (message: string, fields: Readonly<Record<string, unknown>>) => void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const key = (id: RequestId) => `${typeof id}:${String(id)}`;
const ELICIT_TIMEOUT_MS = 300_000;
/** Requests of one session held or in flight at once. */
const MAX_IN_FLIGHT = 1024;

/**
 * Joins `client` (a server transport: the agent's side) to `upstream` (a client transport:
 * the tool server) with `guard` in between, and starts both. Resolves once both are started;
 * `closed` resolves when either side closes (the other is closed then too).
 */
export async function relay(
  client: Transport,
  upstream: Transport,
  guard: Guard,
  options: RelayOptions = {},
): Promise<{ closed: Promise<void>; close(): Promise<void> }> {
  const log = options.log ?? (() => {});
  /** Client requests in flight upstream, by id: the method, its progress token, and for tools/call the guard's hook. */
  const inFlight = new Map<string, { id: RequestId; method: string; token?: string; answered?: GuardRuling & { forward: true } }>();
  /** Calls the guard is holding: their abort controllers (a cancellation or a close aborts them). */
  const held = new Map<string, AbortController>();
  /** Progress tokens of client requests → the request's id (so progress goes back on its stream). */
  const progress = new Map<string, RequestId>();
  /** The gateway's own requests to the client (elicitation), by id: random, so no server can answer them for the person. */
  const own = new Map<string, (message: JSONRPCMessage) => void>();
  let clientCanElicit = false;
  let closing = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const toClient = (message: JSONRPCMessage, relatedRequestId?: RequestId) =>
    client
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((e: unknown) => log("mcp: could not send to the client", { error: String(e) }));
  const toUpstream = (message: JSONRPCMessage) =>
    upstream.send(message).catch((e: unknown) => {
      log("mcp: could not send upstream", { error: String(e) });
      if (isJSONRPCRequest(message)) {
        inFlight.delete(key(message.id));
        void toClient(
          { jsonrpc: "2.0", id: message.id, error: { code: ErrorCode.InternalError, message: "the tool server could not be reached" } },
          message.id,
        );
      }
    });
  /**
   * The client request an upstream message with no id of its own most likely belongs to: the
   * one request forwarded upstream, if exactly one (a call the guard holds has not reached the
   * server, so nothing the server sends is about it). A server's request to the client, which
   * must be answered, goes with several in flight on the stream of the oldest of them: on the
   * standalone stream it would be lost when the client has not opened one (the transport only
   * stores it) and the server's tool call would wait for an answer that never comes.
   */
  const relatedRequest = (answerable: boolean): RequestId | undefined => {
    if (inFlight.size !== 1 && !answerable) return undefined;
    for (const r of inFlight.values()) return r.id;
    return undefined;
  };

  const ask = (relatedTo: RequestId): GuardAsk =>
    clientCanElicit
      ? (message) =>
          new Promise((resolve) => {
            const id = `vigil-${randomUUID()}`;
            const timer = setTimeout(() => {
              own.delete(key(id));
              resolve("cancel");
            }, ELICIT_TIMEOUT_MS);
            own.set(key(id), (reply) => {
              clearTimeout(timer);
              const action = isJSONRPCResultResponse(reply) && isObject(reply.result) ? reply.result.action : undefined;
              resolve(action === "accept" ? "accept" : action === "decline" ? "decline" : "cancel");
            });
            void toClient(
              {
                jsonrpc: "2.0",
                id,
                method: "elicitation/create",
                params: { message, requestedSchema: { type: "object", properties: {} } },
              },
              relatedTo,
            );
          })
      : undefined;

  const refuse = (id: RequestId, code: number, message: string) => void toClient({ jsonrpc: "2.0", id, error: { code, message } }, id);
  const forget = (k: string) => {
    const r = inFlight.get(k);
    if (r?.token !== undefined) progress.delete(r.token);
    inFlight.delete(k);
  };

  async function holdCall(request: JSONRPCRequest, token: string | undefined): Promise<void> {
    const params = isObject(request.params) ? request.params : {};
    // What the guard judges is exactly what would be forwarded: a call of another shape is refused, never sent on.
    const refused = (message: string) => {
      if (token !== undefined) progress.delete(token);
      refuse(request.id, ErrorCode.InvalidParams, message);
    };
    if (typeof params.name !== "string" || (params.arguments !== undefined && !isObject(params.arguments)))
      return refused("tools/call needs a string name and an object of arguments");
    if (params.task !== undefined) return refused("task-augmented tool calls are not supported through the Vigil gateway");
    const name = params.name;
    const call: GuardedCall = {
      name,
      arguments: isObject(params.arguments) ? params.arguments : {},
      meta: isObject(params._meta) ? params._meta : undefined,
    };
    const controller = new AbortController();
    held.set(key(request.id), controller);
    let ruling: GuardRuling;
    try {
      ruling = await guard.call(call, ask(request.id), controller.signal);
    } catch (e) {
      log("mcp: the guard failed on a call; it is not forwarded", { tool: name, error: String(e) });
      ruling = { forward: false, result: { isError: true, content: [{ type: "text", text: "Vigil could not decide on this call; it was not run." }] } };
    } finally {
      held.delete(key(request.id));
    }
    if (controller.signal.aborted || closing || !ruling.forward) {
      if (token !== undefined) progress.delete(token);
      // Cancelled by the client: nothing is sent either way.
      if (!ruling.forward && !controller.signal.aborted && !closing)
        await toClient({ jsonrpc: "2.0", id: request.id, result: ruling.result as Record<string, unknown> }, request.id);
      return;
    }
    inFlight.set(key(request.id), { id: request.id, method: request.method, answered: ruling, ...(token !== undefined ? { token } : {}) });
    await toUpstream(request);
  }

  client.onmessage = (message) => {
    if (isJSONRPCRequest(message)) {
      const k = key(message.id);
      // An id already held or in flight: its answer could not be told from the other's (and a
      // forwarded call's result could then reach the client unrecorded). Refused, nothing forwarded.
      if (held.has(k) || inFlight.has(k)) return refuse(message.id, ErrorCode.InvalidRequest, "a request with this id is already in flight");
      if (held.size + inFlight.size >= MAX_IN_FLIGHT)
        return refuse(message.id, ErrorCode.InvalidRequest, `more than ${MAX_IN_FLIGHT} requests in flight in this session`);
      const params = isObject(message.params) ? message.params : undefined;
      const raw = isObject(params?._meta) ? params._meta.progressToken : undefined;
      const token = typeof raw === "string" || typeof raw === "number" ? key(raw) : undefined;
      if (token !== undefined) progress.set(token, message.id);
      if (message.method === "initialize") {
        clientCanElicit = isObject(params?.capabilities) && params.capabilities.elicitation !== undefined;
        try {
          guard.initialize(params ?? {});
        } catch (e) {
          log("mcp: the guard failed on initialize", { error: String(e) });
        }
      }
      if (message.method === "tools/call") {
        void holdCall(message, token);
        return;
      }
      inFlight.set(k, { id: message.id, method: message.method, ...(token !== undefined ? { token } : {}) });
      void toUpstream(message);
      return;
    }
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const mine = message.id === undefined ? undefined : own.get(key(message.id));
      if (mine) {
        own.delete(key(message.id as RequestId));
        mine(message);
        return;
      }
      void toUpstream(message);
      return;
    }
    if (!isJSONRPCNotification(message) || !message.method.startsWith("notifications/")) {
      // Not a request, an answer or a notification (a tools/call without an id, say): never sent on.
      log("mcp: a client message that is not a request, a response or a notification was dropped", {
        method: isObject(message) && typeof (message as Record<string, unknown>).method === "string" ? (message as Record<string, unknown>).method : undefined,
      });
      return;
    }
    if (message.method === "notifications/cancelled") {
      const id = isObject(message.params) ? message.params.requestId : undefined;
      if (typeof id === "string" || typeof id === "number") {
        const h = held.get(key(id));
        if (h) {
          h.abort();
          return; // never forwarded: nothing upstream to cancel
        }
        // Forwarded: the server is told; the client expects no answer, and a late one is dropped.
        forget(key(id));
      }
    }
    void toUpstream(message);
  };

  upstream.onmessage = (message) => {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id;
      const request = id === undefined ? undefined : inFlight.get(key(id));
      if (id === undefined || request === undefined) {
        // An answer to nothing in flight (a call still held, one cancelled, an id never sent):
        // dropped, so no result reaches the client unrecorded.
        log("mcp: an answer from the server to no request in flight was dropped", { id });
        return;
      }
      forget(key(id));
      if (request.method === "initialize" && isJSONRPCResultResponse(message)) {
        if (typeof message.result.protocolVersion === "string") upstream.setProtocolVersion?.(message.result.protocolVersion);
        // Task-augmented calls return their output later through tasks/result, past the guard: not offered.
        if (isObject(message.result.capabilities) && "tasks" in message.result.capabilities) {
          const { tasks: _tasks, ...capabilities } = message.result.capabilities;
          void toClient({ ...message, result: { ...message.result, capabilities } }, id);
          return;
        }
      }
      if (request.method === "tools/list" && isJSONRPCResultResponse(message) && Array.isArray(message.result.tools)) {
        const listed: readonly unknown[] = message.result.tools;
        // The listing waits for the guard (which may wait for Vigil); only `tools` may change, cursors and the rest never do.
        void Promise.resolve()
          .then(async (): Promise<readonly unknown[] | undefined> => (await guard.tools(listed)) ?? undefined)
          .then(
            (kept) => (kept === undefined || kept === listed ? message : { ...message, result: { ...message.result, tools: [...kept] } }),
            (e: unknown) => {
              log("mcp: the guard failed on a tool list; it is relayed as it is", { error: String(e) });
              return message;
            },
          )
          .then((out) => toClient(out, id));
        return;
      }
      const hook = request.answered;
      if (hook === undefined) {
        void toClient(message, id);
        return;
      }
      const answer: GuardAnswer = isJSONRPCResultResponse(message) ? { result: message.result } : { error: message.error };
      void hook
        .answered(answer)
        .catch((e: unknown): GuardAnswer => {
          log("mcp: recording a tool result failed; the result is withheld", { error: String(e) });
          return { result: { isError: true, content: [{ type: "text", text: "Vigil could not record this call's result; it is withheld." }] } };
        })
        .then((out) =>
          toClient("result" in out ? { jsonrpc: "2.0", id, result: out.result as Record<string, unknown> } : { jsonrpc: "2.0", id, error: out.error }, id),
        );
      return;
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/progress") {
      const token = isObject(message.params) ? message.params.progressToken : undefined;
      const related = typeof token === "string" || typeof token === "number" ? progress.get(key(token)) : undefined;
      void toClient(message, related ?? relatedRequest(false));
      return;
    }
    // A server-to-client request (sampling, elicitation, roots, ping) or another notification:
    // on the stream of the client's request it belongs to when that can be told.
    void toClient(message, relatedRequest(isJSONRPCRequest(message)));
  };

  const shutDown = async () => {
    if (closing) return;
    closing = true;
    for (const c of held.values()) c.abort();
    // A question to the person still open is answered "cancel" (and its timer cleared): nothing keeps the process up.
    for (const answer of [...own.values()])
      answer({ jsonrpc: "2.0", id: "closed", error: { code: ErrorCode.ConnectionClosed, message: "the session closed" } });
    own.clear();
    for (const r of inFlight.values())
      await client
        .send(
          { jsonrpc: "2.0", id: r.id, error: { code: ErrorCode.ConnectionClosed, message: "the tool server closed the connection" } },
          { relatedRequestId: r.id },
        )
        .catch(() => {});
    inFlight.clear();
    await Promise.allSettled([client.close(), upstream.close()]);
    resolveClosed();
  };
  client.onclose = () => void shutDown();
  upstream.onclose = () => void shutDown();
  client.onerror = (e) => log("mcp: client transport error", { error: e.message });
  upstream.onerror = (e) => log("mcp: upstream transport error", { error: e.message });

  await upstream.start();
  await client.start();
  return { closed, close: shutDown };
}
