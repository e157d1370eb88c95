import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { MultiplexTransport } from "../../src/adapters/mcp/multiplex.js";
import { relay } from "../../src/adapters/mcp/relay.js";
import type { Guard } from "../../src/adapters/mcp/relay.js";
import { upstreamServer } from "../support/mcp-servers.js";

// Several servers behind one gateway: a real SDK client in front of the relay, two real SDK
// servers behind the multiplexer (in-memory transports). Tool names come back namespaced
// `<server>__<tool>`, calls reach the server named, resources go where they were listed, and
// a server's own request to the client (elicitation) is answered to that server.

const allowAll: Guard = {
  initialize: () => {},
  tools: () => {},
  call: async () => ({ forward: true, answered: async (a) => a }),
};

async function twoServers() {
  const a = upstreamServer("alpha");
  const b = upstreamServer("beta");
  const upstreams = [];
  for (const [name, u] of [
    ["alpha", a],
    ["beta", b],
  ] as const) {
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    await u.server.connect(serverSide);
    upstreams.push({ name, transport: clientSide });
  }
  const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
  const session = await relay(gatewaySide, new MultiplexTransport(upstreams), allowAll);
  const client = new Client({ name: "agent", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  await client.connect(clientSide);
  return { client, a, b, session };
}

const textOf = (r: unknown) => (r as { content: { text?: string }[] }).content[0]?.text ?? "";

describe("MCP multiplexer", () => {
  it("joins the servers' capabilities and lists their tools under namespaced names", async () => {
    const { client, session } = await twoServers();
    expect(client.getServerVersion()?.name).toBe("vigil-mcp");
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, logging: {} });
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["alpha__confirm", "alpha__echo", "alpha__slow", "beta__confirm", "beta__echo", "beta__slow"]);
    await session.close();
  });

  it("sends a call to the server its name names, with the server's own tool name", async () => {
    const { client, a, b, session } = await twoServers();
    expect(textOf(await client.callTool({ name: "beta__echo", arguments: { text: "to beta" } }))).toBe("to beta");
    expect(b.ran).toEqual(["echo"]);
    expect(a.ran).toEqual([]);
    await expect(client.callTool({ name: "gamma__echo", arguments: {} })).rejects.toThrow(/unknown tool gamma__echo/);
    await expect(client.callTool({ name: "echo", arguments: {} })).rejects.toThrow(/unknown tool echo/);
    await session.close();
  });

  it("reads a resource from the server that listed it", async () => {
    const { client, session } = await twoServers();
    const uris = (await client.listResources()).resources.map((r) => r.uri).sort();
    expect(uris).toEqual(["memo://alpha", "memo://beta"]);
    expect((await client.readResource({ uri: "memo://beta" })).contents[0]).toMatchObject({ text: "beta resource text" });
    expect((await client.readResource({ uri: "memo://alpha" })).contents[0]).toMatchObject({ text: "alpha resource text" });
    await expect(client.readResource({ uri: "memo://nowhere" })).rejects.toThrow(/no server lists/);
    await session.close();
  });

  it("carries a server's elicitation to the client and the answer back to that server; progress reaches the call", async () => {
    const { client, session } = await twoServers();
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: "decline" };
    });
    expect(textOf(await client.callTool({ name: "alpha__confirm", arguments: {} }))).toBe("user said decline");
    expect(textOf(await client.callTool({ name: "beta__confirm", arguments: {} }))).toBe("user said decline");
    expect(asked).toBe(2);
    const progress: number[] = [];
    await client.callTool({ name: "beta__slow", arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(await client.ping()).toEqual({});
    await session.close();
  });
});

describe("MCP multiplexer against a hostile server", () => {
  it("takes an answer only from the server the request went to (no server answers for another)", async () => {
    const [alphaGw, alphaEnd] = InMemoryTransport.createLinkedPair();
    const [betaGw, betaEnd] = InMemoryTransport.createLinkedPair();
    const seenByAlpha: JSONRPCMessage[] = [];
    alphaEnd.onmessage = (m) => void seenByAlpha.push(m);
    betaEnd.onmessage = () => {};
    await alphaEnd.start();
    await betaEnd.start();
    const mux = new MultiplexTransport([
      { name: "alpha", transport: alphaGw },
      { name: "beta", transport: betaGw },
    ]);
    const up: JSONRPCMessage[] = [];
    mux.onmessage = (m) => void up.push(m);
    await mux.start();
    await mux.send({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "alpha__read", arguments: {} } });
    expect(seenByAlpha).toEqual([{ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "read", arguments: {} } }]);
    await betaEnd.send({ jsonrpc: "2.0", id: 9, result: { content: [{ type: "text", text: "from beta" }] } });
    await alphaEnd.send({ jsonrpc: "2.0", id: 9, result: { content: [{ type: "text", text: "from alpha" }] } });
    await new Promise((r) => setTimeout(r, 20));
    expect(up).toEqual([{ jsonrpc: "2.0", id: 9, result: { content: [{ type: "text", text: "from alpha" }] } }]);
    await mux.close();
  });
});
