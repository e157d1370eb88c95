import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/sdk/types.js";

// Several MCP servers behind one gateway, seen by the relay (relay.ts) as one server: a
// Transport that fans the client's messages out to the upstreams and merges their answers.
// Names are namespaced `<server>__<name>` — tools and prompts — so two servers may both
// have a `search`; resources keep their URIs (a read goes to the server that listed the URI,
// or whose template it matches). Listings are merged; a cursor is the servers' own cursors
// together. `initialize` goes to every server and their capabilities are joined. The
// servers' own requests to the client (sampling, elicitation, roots) go up under ids of the
// gateway's, and the client's answers go back to the server that asked.

export const NAMESPACE_SEPARATOR = "__";

interface Upstream {
  readonly name: string;
  readonly transport: Transport;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const key = (id: RequestId) => `${typeof id}:${String(id)}`;

/** A fan-out request waiting for every server's answer. */
interface FanOut {
  readonly id: RequestId;
  readonly method: string;
  readonly answers: Map<string, JSONRPCMessage>;
  readonly expected: readonly string[];
}

const LISTS: Readonly<Record<string, { field: string; named: boolean }>> = {
  "tools/list": { field: "tools", named: true },
  "prompts/list": { field: "prompts", named: true },
  "resources/list": { field: "resources", named: false },
  "resources/templates/list": { field: "resourceTemplates", named: false },
};
const MAX_ROUTES = 10_000;

export class MultiplexTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly byName = new Map<string, Upstream>();
  /** Client request id → the server it went to (routed requests). */
  private readonly routed = new Map<string, Upstream>();
  private readonly fanOuts = new Map<string, FanOut>();
  /** Server-to-client request ids: the gateway's id → the server and its own id. */
  private readonly upward = new Map<string, { upstream: Upstream; id: RequestId }>();
  /** The same, the other way: `<server>\u0000<its id key>` → the gateway's id (a server withdrawing its request). */
  private readonly upwardOf = new Map<string, string>();
  /** Which server a resource URI (or a template's fixed prefix) belongs to. */
  private readonly resources = new Map<string, Upstream>();
  private readonly templates: { prefix: string; upstream: Upstream }[] = [];
  private nextUpward = 0;
  private closed = false;

  constructor(private readonly upstreams: readonly Upstream[]) {
    for (const u of upstreams) {
      if (u.name.includes(NAMESPACE_SEPARATOR)) throw new Error(`server name ${u.name} contains ${NAMESPACE_SEPARATOR}`);
      this.byName.set(u.name, u);
    }
  }

  async start(): Promise<void> {
    for (const u of this.upstreams) {
      u.transport.onmessage = (m) => this.fromUpstream(u, m);
      u.transport.onerror = (e) => this.onerror?.(new Error(`${u.name}: ${e.message}`));
      u.transport.onclose = () => void this.close();
    }
    await Promise.all(this.upstreams.map((u) => u.transport.start()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.upstreams.map((u) => u.transport.close()));
    this.onclose?.();
  }

  /** Each server keeps the version it chose itself in its own initialize answer (see merge). */
  setProtocolVersion(_version: string): void {}

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (isJSONRPCRequest(message)) return this.request(message);
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const up = message.id === undefined ? undefined : this.upward.get(key(message.id));
      if (up === undefined) return;
      this.upward.delete(key(message.id as RequestId));
      this.upwardOf.delete(`${up.upstream.name}\u0000${key(up.id)}`);
      await up.upstream.transport.send({ ...message, id: up.id } as JSONRPCMessage);
      return;
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/cancelled" && isObject(message.params)) {
      const id = message.params.requestId;
      if (typeof id === "string" || typeof id === "number") {
        const to = this.routed.get(key(id));
        if (to) {
          this.routed.delete(key(id));
          return to.transport.send(message);
        }
        this.fanOuts.delete(key(id));
      }
    }
    await Promise.all(this.upstreams.map((u) => u.transport.send(message)));
  }

  private answer(id: RequestId, result: Json): void {
    this.onmessage?.({ jsonrpc: "2.0", id, result });
  }

  private fail(id: RequestId, code: number, message: string): void {
    this.onmessage?.({ jsonrpc: "2.0", id, error: { code, message } });
  }

  private async request(req: JSONRPCRequest): Promise<void> {
    const params = isObject(req.params) ? req.params : {};
    const list = LISTS[req.method];
    if (req.method === "ping") return this.answer(req.id, {});
    if (req.method === "initialize" || req.method === "logging/setLevel") return this.fanOut(req, this.upstreams, params);
    if (list !== undefined) {
      // A cursor of ours holds each server's own cursor: only servers with more to list are asked again.
      let cursors: Json | undefined;
      if (typeof params.cursor === "string") {
        try {
          const parsed: unknown = JSON.parse(Buffer.from(params.cursor, "base64url").toString("utf8"));
          cursors = isObject(parsed) ? parsed : undefined;
        } catch {
          cursors = undefined;
        }
        if (cursors === undefined) return this.fail(req.id, ErrorCode.InvalidParams, "unknown cursor");
      }
      const targets = cursors ? this.upstreams.filter((u) => typeof cursors[u.name] === "string") : this.upstreams;
      return this.fanOut(req, targets, params, cursors);
    }
    if (req.method === "tools/call" || req.method === "prompts/get") {
      const split = this.split(params.name);
      if (split === undefined)
        return this.fail(req.id, ErrorCode.InvalidParams, `unknown ${req.method === "tools/call" ? "tool" : "prompt"} ${String(params.name)}`);
      return this.route(req, split.upstream, { ...params, name: split.name });
    }
    if (req.method === "completion/complete" && isObject(params.ref)) {
      const ref = params.ref;
      if (ref.type === "ref/prompt") {
        const split = this.split(ref.name);
        if (split === undefined) return this.fail(req.id, ErrorCode.InvalidParams, `unknown prompt ${String(ref.name)}`);
        return this.route(req, split.upstream, { ...params, ref: { ...ref, name: split.name } });
      }
      const owner = this.owner(ref.uri);
      if (owner === undefined) return this.fail(req.id, ErrorCode.InvalidParams, `no server lists ${String(ref.uri)}`);
      return this.route(req, owner, params);
    }
    if (req.method.startsWith("resources/")) {
      const owner = this.owner(params.uri);
      if (owner === undefined) return this.fail(req.id, ErrorCode.InvalidParams, `no server lists the resource ${String(params.uri)}`);
      return this.route(req, owner, params);
    }
    return this.fail(req.id, ErrorCode.MethodNotFound, `method ${req.method} is not served by the gateway's several servers`);
  }

  private split(name: unknown): { upstream: Upstream; name: string } | undefined {
    if (typeof name !== "string") return undefined;
    const at = name.indexOf(NAMESPACE_SEPARATOR);
    if (at <= 0) return undefined;
    const upstream = this.byName.get(name.slice(0, at));
    return upstream ? { upstream, name: name.slice(at + NAMESPACE_SEPARATOR.length) } : undefined;
  }

  private owner(uri: unknown): Upstream | undefined {
    if (typeof uri !== "string") return undefined;
    const exact = this.resources.get(uri);
    if (exact) return exact;
    let best: { prefix: string; upstream: Upstream } | undefined;
    for (const t of this.templates) if (uri.startsWith(t.prefix) && (best === undefined || t.prefix.length > best.prefix.length)) best = t;
    return best?.upstream;
  }

  private async route(req: JSONRPCRequest, upstream: Upstream, params: Json): Promise<void> {
    if (this.routed.size >= MAX_ROUTES) return this.fail(req.id, ErrorCode.InternalError, "too many requests in flight");
    this.routed.set(key(req.id), upstream);
    await upstream.transport.send({ ...req, params });
  }

  private async fanOut(req: JSONRPCRequest, targets: readonly Upstream[], params: Json, cursors?: Json): Promise<void> {
    const f: FanOut = { id: req.id, method: req.method, answers: new Map(), expected: targets.map((t) => t.name) };
    if (targets.length === 0) return this.answer(req.id, { [LISTS[req.method]?.field ?? "items"]: [] });
    if (this.fanOuts.size >= MAX_ROUTES) return this.fail(req.id, ErrorCode.InternalError, "too many requests in flight");
    this.fanOuts.set(key(req.id), f);
    await Promise.all(
      targets.map((u) => {
        const own: Json = { ...params };
        if (cursors) own.cursor = cursors[u.name];
        return u.transport.send({ ...req, params: own });
      }),
    );
  }

  private fromUpstream(u: Upstream, message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id;
      if (id === undefined) return;
      const f = this.fanOuts.get(key(id));
      if (f !== undefined) {
        // Only a server that was asked, once: no server answers for another.
        if (!f.expected.includes(u.name) || f.answers.has(u.name)) return;
        f.answers.set(u.name, message);
        if (f.expected.every((n) => f.answers.has(n))) {
          this.fanOuts.delete(key(id));
          this.merge(f);
        }
        return;
      }
      // A routed answer (tools/call, prompts/get, resources/read, …) carries no names to rename;
      // only the server the request went to may give it.
      if (this.routed.get(key(id)) !== u) return;
      this.routed.delete(key(id));
      this.onmessage?.(message);
      return;
    }
    if (isJSONRPCRequest(message)) {
      if (this.upward.size >= MAX_ROUTES) {
        void u.transport.send({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: ErrorCode.InternalError, message: "too many requests to the client in flight" },
        });
        return;
      }
      const id = `vigil-mux-${this.nextUpward++}`;
      this.upward.set(key(id), { upstream: u, id: message.id });
      this.upwardOf.set(`${u.name}\u0000${key(message.id)}`, id);
      this.onmessage?.({ ...message, id });
      return;
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/cancelled" && isObject(message.params)) {
      // A server withdrawing a request it made of the client: under the gateway's id.
      const withdrawn = message.params.requestId;
      const mine = typeof withdrawn === "string" || typeof withdrawn === "number" ? `${u.name}\u0000${key(withdrawn)}` : undefined;
      const id = mine === undefined ? undefined : this.upwardOf.get(mine);
      if (mine === undefined || id === undefined) return;
      this.upwardOf.delete(mine);
      this.upward.delete(key(id));
      this.onmessage?.({ ...message, params: { ...message.params, requestId: id } });
      return;
    }
    this.onmessage?.(message);
  }

  private merge(f: FanOut): void {
    const oks = [...f.answers.entries()].filter(([, m]) => isJSONRPCResultResponse(m)) as [string, JSONRPCMessage & { result: Json }][];
    if (oks.length === 0) {
      const first = [...f.answers.values()][0];
      this.onmessage?.(
        first && isJSONRPCErrorResponse(first)
          ? { ...first, id: f.id }
          : { jsonrpc: "2.0", id: f.id, error: { code: ErrorCode.InternalError, message: "no server answered" } },
      );
      return;
    }
    if (f.method === "initialize") {
      for (const [name, m] of oks)
        if (typeof m.result.protocolVersion === "string") this.byName.get(name)?.transport.setProtocolVersion?.(m.result.protocolVersion);
      return this.answer(f.id, this.mergeInitialize(oks));
    }
    const list = LISTS[f.method];
    if (list === undefined) return this.answer(f.id, {});
    const items: unknown[] = [];
    const cursors: Json = {};
    for (const [name, m] of oks) {
      const u = this.byName.get(name) as Upstream;
      const got = Array.isArray(m.result[list.field]) ? (m.result[list.field] as unknown[]) : [];
      for (const item of got) {
        if (!isObject(item)) continue;
        if (list.named && typeof item.name === "string") items.push({ ...item, name: `${name}${NAMESPACE_SEPARATOR}${item.name}` });
        else items.push(item);
        // The first server to list a URI owns it; a template needs a scheme before its first variable.
        if (f.method === "resources/list" && typeof item.uri === "string" && !this.resources.has(item.uri) && this.resources.size < MAX_ROUTES)
          this.resources.set(item.uri, u);
        if (f.method === "resources/templates/list" && typeof item.uriTemplate === "string" && this.templates.length < MAX_ROUTES) {
          const prefix = item.uriTemplate.split("{")[0] ?? "";
          if (prefix.includes("://") && !this.templates.some((t) => t.prefix === prefix)) this.templates.push({ prefix, upstream: u });
        }
      }
      if (typeof m.result.nextCursor === "string") cursors[name] = m.result.nextCursor;
    }
    this.answer(f.id, {
      [list.field]: items,
      ...(Object.keys(cursors).length > 0 ? { nextCursor: Buffer.from(JSON.stringify(cursors)).toString("base64url") } : {}),
    });
  }

  private mergeInitialize(oks: readonly [string, { result: Json }][]): Json {
    const capabilities: Json = {};
    const versions = oks.map(([, m]) => m.result.protocolVersion).filter((v): v is string => typeof v === "string");
    const instructions: string[] = [];
    for (const [name, m] of oks) {
      const caps = isObject(m.result.capabilities) ? m.result.capabilities : {};
      for (const [k, v] of Object.entries(caps)) {
        if (k === "tasks") continue; // task-augmented calls would return their output past the guard
        const had = capabilities[k];
        capabilities[k] = isObject(had) && isObject(v) ? { ...had, ...v } : v;
      }
      if (typeof m.result.instructions === "string") instructions.push(`${name}: ${m.result.instructions}`);
    }
    // The oldest version any server speaks, so no server is spoken to in a newer one than it chose.
    const protocolVersion = [...versions].sort()[0];
    return {
      protocolVersion,
      capabilities,
      serverInfo: { name: "vigil-mcp", version: "1", title: `Vigil gateway to ${oks.map(([n]) => n).join(", ")}` },
      ...(instructions.length > 0 ? { instructions: instructions.join("\n\n") } : {}),
    };
  }
}
