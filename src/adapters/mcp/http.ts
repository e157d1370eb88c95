import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";

// The gateway's Streamable HTTP side (MCP 2025-03-26 and later): one endpoint, `/mcp`, with
// sessions (`Mcp-Session-Id`), resumable SSE streams (a bounded in-memory event store per
// session: a client that lost a stream replays it with `Last-Event-ID`), and the checks the
// specification asks of a local server against DNS rebinding: the Host header must name this
// listener, and an Origin header, when present, must be one of the allowed origins. Bodies
// are capped before they are parsed; a session that stays idle past `idleMs` is closed.

export interface McpHttpOptions {
  readonly host: string;
  readonly port: number;
  /** Origins a browser-based client may call from (default: the listener's own). */
  readonly allowedOrigins?: readonly string[];
  /** Extra Host header values accepted (e.g. a name the gateway is reached by). */
  readonly allowedHosts?: readonly string[];
  /** Largest request body, bytes (default 4 MiB). */
  readonly maxBodyBytes?: number;
  /** Most sessions open at once (default 1,000). */
  readonly maxSessions?: number;
  /** A session with no request for this long is closed (default 30 min). */
  readonly idleMs?: number;
  /** Events kept per session for resumption (default 1,000). */
  readonly replayEvents?: number;
  /**
   * Who a request speaks for, from its bearer token: the name the token maps to, or undefined
   * for none or an unknown one. When set, every request needs a known token (401 without),
   * and every request of a session the token that opened it (403 otherwise).
   */
  readonly identify?: (req: IncomingMessage) => string | undefined;
  /**
   * Opens a gateway session for a new MCP session: joins the server transport to an upstream
   * and a guard. `who` is the identify() name of the request that opened it. Resolves once
   * ready; the returned close() ends it.
   */
  readonly open: (
    transport: StreamableHTTPServerTransport,
    sessionId: string,
    who: string | undefined,
  ) => Promise<{ close(): Promise<void>; closed: Promise<void> }>;
  readonly log?: (message: string, fields: Readonly<Record<string, unknown>>) => void;
}

export interface McpHttpServer {
  readonly url: string;
  readonly sessions: () => number;
  close(): Promise<void>;
}

/** A bounded in-memory event store: the last `max` messages of one session's streams, at most `maxBytes` of them. */
export class BoundedEventStore implements EventStore {
  private readonly events = new Map<string, { streamId: string; message: JSONRPCMessage; bytes: number }>();
  private next = 0;
  private bytes = 0;
  constructor(
    private readonly max: number,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${(this.next++).toString(36).padStart(8, "0")}`;
    const bytes = JSON.stringify(message).length;
    this.events.set(id, { streamId, message, bytes });
    this.bytes += bytes;
    while (this.events.size > this.max || (this.bytes > this.maxBytes && this.events.size > 1)) {
      const oldest = this.events.keys().next().value as string;
      this.bytes -= this.events.get(oldest)?.bytes ?? 0;
      this.events.delete(oldest);
    }
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const from = this.events.get(lastEventId);
    if (from === undefined) return "";
    let after = false;
    for (const [id, e] of this.events) {
      if (after && e.streamId === from.streamId) await send(id, e.message);
      if (id === lastEventId) after = true;
    }
    return from.streamId;
  }
}

class HttpFailure extends Error {
  readonly code = "body_too_large";
  constructor(
    readonly status: 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The body, at most `max` bytes. A larger one is read to its end and dropped (bounded by the
 * server's request timeout), then refused with a 413 the client can read: answering while it
 * still uploads would reset its connection instead.
 */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers["content-length"] ?? 0) > max;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      if (over) chunks.length = 0;
      else chunks.push(c);
    });
    req.on("end", () => (over ? reject(new HttpFailure(413, `request body over ${max} bytes`)) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

const jsonRpcError = (res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) => {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } }));
};

/** Starts the listener; resolves once it accepts connections. */
export async function startMcpHttp(options: McpHttpOptions): Promise<McpHttpServer> {
  const log = options.log ?? (() => {});
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 1000;
  const idleMs = options.idleMs ?? 30 * 60_000;
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; close(): Promise<void>; lastSeen: number; who: string | undefined }>();
  let port = options.port;
  let opening = 0;

  // Set once the listener has its port (below): the Host values and Origins it accepts.
  let hostsAllowed: ReadonlySet<string> = new Set();
  let originsAllowed: ReadonlySet<string> = new Set();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname !== "/mcp") return jsonRpcError(res, 404, -32601, `no such endpoint ${url.pathname}; MCP is served at /mcp`);
    const host = req.headers.host ?? "";
    if (!hostsAllowed.has(host)) return jsonRpcError(res, 403, -32000, `Host ${JSON.stringify(host)} is not this gateway's (DNS rebinding protection)`);
    const origin = req.headers.origin;
    if (origin !== undefined && !originsAllowed.has(origin)) return jsonRpcError(res, 403, -32000, `Origin ${JSON.stringify(origin)} is not allowed`);

    const who = options.identify?.(req);
    if (options.identify !== undefined && who === undefined)
      return jsonRpcError(res, 401, -32000, "a bearer token of this gateway is required (Authorization: Bearer <token>)", {
        "www-authenticate": 'Bearer realm="vigil-mcp"',
      });
    const sid = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(sid) ? sid[0] : sid;
    let body: unknown;
    if (req.method === "POST") {
      const text = await readBody(req, maxBody);
      try {
        body = JSON.parse(text);
      } catch {
        return jsonRpcError(res, 400, -32700, "parse error: the body is not JSON");
      }
    }
    if (sessionId !== undefined) {
      const s = sessions.get(sessionId);
      if (s === undefined) return jsonRpcError(res, 404, -32001, "session not found (it ended or expired); initialize a new one");
      if (s.who !== who) return jsonRpcError(res, 403, -32000, "this session was opened with another token");
      s.lastSeen = Date.now();
      await s.transport.handleRequest(req, res, body);
      return;
    }
    const initializing = req.method === "POST" && (Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body));
    if (!initializing) return jsonRpcError(res, 400, -32000, "no Mcp-Session-Id header: send initialize first");
    // The slot is taken before anything is spawned, so parallel initializes cannot pass the cap together.
    if (sessions.size + opening >= maxSessions)
      return jsonRpcError(res, 503, -32000, `the gateway holds ${maxSessions} sessions already`, { "retry-after": "5" });
    opening++;
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: new BoundedEventStore(options.replayEvents ?? 1000),
    });
    let opened: { close(): Promise<void>; closed: Promise<void> };
    try {
      opened = await options.open(transport, id, who);
    } finally {
      opening--;
    }
    sessions.set(id, { transport, close: opened.close, lastSeen: Date.now(), who });
    void opened.closed.then(() => sessions.delete(id));
    await transport.handleRequest(req, res, body);
    // An initialize the transport refused (a wrong Accept header, say) opened no session the client knows of.
    if (transport.sessionId === undefined) {
      sessions.delete(id);
      await opened.close();
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpFailure) return jsonRpcError(res, e.status, -32000, e.message);
      log("mcp http: request failed", { error: String(e) });
      jsonRpcError(res, 500, -32603, "internal error");
    });
  });
  // A request must arrive whole within 30 s (a slow body holds no socket longer); the
  // responses' SSE streams are not bounded by this, and idle sessions are closed below.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address !== null && typeof address === "object") port = address.port;
  const names = new Set([options.host, "localhost", "127.0.0.1", "[::1]"]);
  hostsAllowed = new Set([...[...names].map((h) => `${h}:${port}`), ...(options.allowedHosts ?? [])]);
  originsAllowed = new Set(options.allowedOrigins ?? [...hostsAllowed].map((h) => `http://${h}`));
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of sessions)
        if (now - s.lastSeen > idleMs) {
          sessions.delete(id);
          void s.close();
        }
    },
    Math.min(idleMs, 60_000),
  );
  sweep.unref();

  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/mcp`,
    sessions: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.allSettled([...sessions.values()].map((s) => s.close()));
      sessions.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
