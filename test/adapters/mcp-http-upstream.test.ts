import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ElicitRequestSchema, isJSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import { relay } from "../../src/adapters/mcp/relay.js";
import type { Guard } from "../../src/adapters/mcp/relay.js";
import { upstreamTransport } from "../../src/adapters/mcp/upstreams.js";
import { upstreamServer } from "../support/mcp-servers.js";

// The gateway in front of a Streamable HTTP server that asks the client for something
// (elicitation here; sampling is the same) from inside a tool call without relating the
// request to the call, as the MCP conformance reference server does: the SDK's server
// transport sends such a request on the session's standalone stream (the client's GET), and
// when that stream is not open yet it only stores the request, never delivering it, so the
// tool call waits forever. The SDK's client transport opens the GET without waiting for it,
// so the gateway's first request could overtake it (seen under load in the conformance
// suite through `vigil mcp`). Real SDK transports and server; the server's network is slow
// on the GET only: it holds the GET for a while, or until the server has asked its question.

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
