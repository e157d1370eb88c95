import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ElicitRequestSchema, isJSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import { startMcpHttp } from "../../src/adapters/mcp/http.js";
import { relay } from "../../src/adapters/mcp/relay.js";
import type { Guard, Ruling, ToolCall } from "../../src/adapters/mcp/relay.js";
import { upstreamTransport } from "../../src/adapters/mcp/upstreams.js";
import { upstreamServer } from "../support/mcp-servers.js";

// The relay over Streamable HTTP (real SDK transports and servers, and the gateway's own HTTP
// side), where a server's request to the client that is related to no request of the
// client's (elicitation here; sampling is the same) goes on the session's standalone stream
// (the client's GET), and the SDK's server transport only stores, never delivers, a message
// for a standalone stream that is not open: the tool call that asked would wait forever.
//
// Upstream: a server that asks from inside a tool call without relating the request to the
// call, as the MCP conformance reference server does. The SDK's client transport opens the
// GET without waiting for it, so the gateway's first request could overtake it (seen under
// load in the conformance suite through `vigil mcp`). Here the server's network is slow on the
// GET only: it holds the GET for a while, or until the server has asked its question.
//
// Downstream: a client that opens no standalone stream (the GET is optional), with a call
// held by the guard, or several forwarded, when the server asks: the question must go on the
// stream of a request forwarded upstream.

const body = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });

/** upstreamServer() over stateful Streamable HTTP, answering the standalone GET after `holdMs` or once the server has asked the client something. */
async function slowStandaloneStream(holdMs: number) {
  const up = upstreamServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
  await up.server.connect(transport);
  /** What reached the server, in order. */
  const arrived: string[] = [];
  let standaloneOpen = false;
  let asked!: () => void;
  const serverAsked = new Promise<void>((r) => (asked = r));
  let lose!: (e: Error) => void;
  /** Rejects when the server sends a request the SDK can only store: no related request, and no standalone stream. */
  const lost = new Promise<never>((_, reject) => (lose = reject));
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    if (isJSONRPCRequest(message) && options?.relatedRequestId === undefined) {
      if (!standaloneOpen) lose(new Error(`the server sent ${message.method} before the gateway's standalone stream was open: never delivered`));
      asked();
    }
    return send(message, options);
  };
  const http = createServer((req, res) => {
    void (async () => {
      if (req.method === "GET") {
        arrived.push("GET");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([serverAsked, new Promise<void>((r) => (timer = setTimeout(r, holdMs)))]);
        clearTimeout(timer);
        standaloneOpen = true;
        arrived.push("GET open");
        res.on("close", () => (standaloneOpen = false));
        await transport.handleRequest(req, res);
        return;
      }
      const parsed = req.method === "POST" ? await body(req) : undefined;
      const method = (parsed as { method?: unknown } | undefined)?.method;
      arrived.push(`${req.method ?? ""} ${typeof method === "string" ? method : ""}`.trim());
      await transport.handleRequest(req, res, parsed);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/mcp`,
    arrived,
    lost,
    async close() {
      await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const allowAll: Guard = {
  initialize: () => {},
  tools: () => {},
  call: async () => ({ forward: true, answered: async (a) => a }),
};

describe("MCP relay to a Streamable HTTP server", () => {
  it("opens the server's standalone stream before the first request, so a question the server relates to no request reaches the client", async () => {
    const server = await slowStandaloneStream(500);
    const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    const session = await relay(gatewaySide, upstreamTransport({ name: "slow", kind: "http", url: server.url }), allowAll);
    const client = new Client({ name: "agent", version: "1.0.0" }, { capabilities: { elicitation: {} } });
    let questions = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => {
      questions++;
      return { action: "accept", content: { ok: true } };
    });
    try {
      await client.connect(clientSide);
      const result = await Promise.race([client.callTool({ name: "confirm", arguments: {} }), server.lost]);
      expect((result as { content: { text?: string }[] }).content[0]?.text).toBe("user said accept");
      expect(questions).toBe(1);
      // The call went to the server only once the server had the gateway's GET stream.
      expect(server.arrived.indexOf("GET open")).toBeGreaterThan(-1);
      expect(server.arrived.indexOf("GET open")).toBeLessThan(server.arrived.indexOf("POST tools/call"));
    } finally {
      await client.close();
      await session.close();
      await server.close();
    }
  });
});

/** A client with no standalone stream: its GET is answered 405 (no stream offered) without reaching the gateway. */
const noStandaloneStream = (url: string) =>
  new StreamableHTTPClientTransport(new URL(url), {
    fetch: (input, init) => (init?.method === "GET" ? Promise.resolve(new Response(null, { status: 405 })) : fetch(input, init)),
  });

/** The gateway's HTTP side with a relay per session to upstreamServer() (in memory), ruled by `guard`. */
async function gatewayOverHttp(guard: Guard) {
  const gateway = await startMcpHttp({
    host: "127.0.0.1",
    port: 0,
    open: async (transport) => {
      const up = upstreamServer();
      const [upServerSide, upClientSide] = InMemoryTransport.createLinkedPair();
      await up.server.connect(upServerSide);
      return relay(transport, upClientSide, guard);
    },
  });
  const client = new Client({ name: "agent", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  let questions = 0;
  client.setRequestHandler(ElicitRequestSchema, async () => {
    questions++;
    return { action: "accept", content: { ok: true } };
  });
  await client.connect(noStandaloneStream(gateway.url));
  return {
    client,
    questions: () => questions,
    async close() {
      await client.close();
      await gateway.close();
    },
  };
}

/** A guard that forwards every call once `release(name)` has been called for its tool; `seen` lists the calls it got. */
function heldUntilReleased() {
  const seen: ToolCall[] = [];
  const gates = new Map<string, { released: Promise<void>; release: () => void }>();
  const gate = (name: string) => {
    let g = gates.get(name);
    if (g === undefined) {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      g = { released, release };
      gates.set(name, g);
    }
    return g;
  };
  const guard: Guard = {
    initialize: () => {},
    tools: () => {},
    call: async (call): Promise<Ruling> => {
      seen.push(call);
      await gate(call.name).released;
      return { forward: true, answered: async (a) => a };
    },
  };
  return { guard, seen, release: (name: string) => gate(name).release() };
}

const text = (r: unknown) => (r as { content: { text?: string }[] }).content[0]?.text;
/** Resolves once `cond` holds (checked on every turn of the event loop). */
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

describe("MCP relay over Streamable HTTP to a client with no standalone stream", () => {
  it("sends a server's question on the stream of the call forwarded upstream, not of a call the guard still holds", async () => {
    const { guard, seen, release } = heldUntilReleased();
    const gw = await gatewayOverHttp(guard);
    try {
      const held = gw.client.callTool({ name: "echo", arguments: { text: "later" } });
      await until(() => seen.length === 1);
      release("confirm");
      // Bounded so that a lost question fails the test instead of waiting for the SDK's 60 s.
      const confirmed = await gw.client.callTool({ name: "confirm", arguments: {} }, undefined, { timeout: 10_000 });
      expect(text(confirmed)).toBe("user said accept");
      expect(gw.questions()).toBe(1);
      release("echo");
      expect(text(await held)).toBe("later");
    } finally {
      await gw.close();
    }
  });

  it("sends a server's questions with several requests forwarded on the stream of the oldest: each is answered", async () => {
    const { guard, seen, release } = heldUntilReleased();
    const gw = await gatewayOverHttp(guard);
    try {
      const first = gw.client.callTool({ name: "confirm", arguments: { n: 1 } }, undefined, { timeout: 10_000 });
      const second = gw.client.callTool({ name: "confirm", arguments: { n: 2 } }, undefined, { timeout: 10_000 });
      // Both reach the guard, then both go upstream together: both are in flight when the server asks.
      await until(() => seen.length === 2);
      release("confirm");
      expect((await Promise.all([first, second])).map(text)).toEqual(["user said accept", "user said accept"]);
      expect(gw.questions()).toBe(2);
    } finally {
      await gw.close();
    }
  });
});
