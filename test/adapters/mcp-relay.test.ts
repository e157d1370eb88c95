import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ElicitRequestSchema, ListToolsResultSchema as ToolListSchema } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { relay } from "../../src/adapters/mcp/relay.js";
import type { Guard, Ruling, ToolAnswer, ToolCall } from "../../src/adapters/mcp/relay.js";
import { upstreamServer } from "../support/mcp-servers.js";

// The gateway's relay between a real MCP SDK client and a real MCP SDK server (in-memory
// transports: the protocol is the SDK's own; what is under test is what the relay forwards,
// holds and answers). Vigil's decision is played by a scripted guard here; the live gateway
// with the processor deciding is test/live/mcp-gateway.e2e.test.ts.

/** A guard that rules by a function, and records what it saw. */
function scriptedGuard(rule: (call: ToolCall, ask: Parameters<Guard["call"]>[1], signal: AbortSignal) => Promise<Ruling>) {
  const seen = { initialize: [] as Record<string, unknown>[], tools: [] as unknown[][], calls: [] as ToolCall[], answers: [] as ToolAnswer[] };
  const guard: Guard = {
    initialize: (p) => void seen.initialize.push({ ...p }),
    tools: (t) => void seen.tools.push([...t]),
    call: (c, ask, signal) => {
      seen.calls.push(c);
      return rule(c, ask, signal);
    },
  };
  return { guard, seen };
}

const allow = (seen: { answers: ToolAnswer[] }): Ruling => ({
  forward: true,
  answered: async (a) => {
    seen.answers.push(a);
    return a;
  },
});

async function joined(guard: Guard, clientCapabilities: Record<string, unknown> = {}) {
  const up = upstreamServer();
  const [upServerSide, upClientSide] = InMemoryTransport.createLinkedPair();
  await up.server.connect(upServerSide);
  const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
  const session = await relay(gatewaySide, upClientSide, guard);
  const client = new Client({ name: "agent", version: "1.0.0" }, { capabilities: clientCapabilities });
  await client.connect(clientSide);
  return { client, up, session };
}

/** A guard that allows every call, but only once release() is called. */
function allowedLater() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const { guard, seen } = scriptedGuard(async () => {
    await released;
    return allow(seen);
  });
  return { guard, release };
}

const textOf = (r: unknown) => (r as { content: { text?: string }[] }).content[0]?.text ?? "";

describe("MCP relay", () => {
  it("passes initialize, listings and resources through unchanged and shows the guard the client and the catalog", async () => {
    const { guard, seen } = scriptedGuard(async () => ({ forward: false, result: { content: [] } }));
    const { client, session } = await joined(guard);
    expect(client.getServerVersion()?.name).toBe("upstream");
    expect(client.getServerCapabilities()?.resources).toBeDefined();
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(["echo", "slow", "confirm"]);
    expect(seen.tools[0]?.map((t) => (t as { name: string }).name)).toEqual(["echo", "slow", "confirm"]);
    expect(seen.initialize[0]?.clientInfo).toEqual({ name: "agent", version: "1.0.0" });
    expect((await client.readResource({ uri: "memo://upstream" })).contents[0]).toMatchObject({ text: "upstream resource text" });
    expect((await client.listResources()).resources).toHaveLength(1);
    await session.close();
  });

  it("never sends a denied call upstream: the client gets the guard's tool error", async () => {
    const { guard } = scriptedGuard(async () => ({
      forward: false,
      result: { isError: true, content: [{ type: "text", text: "Vigil held this call to echo: no." }] },
    }));
    const { client, up, session } = await joined(guard);
    const r = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe("Vigil held this call to echo: no.");
    expect(up.ran).toEqual([]);
    await session.close();
  });

  it("forwards an allowed call, and the guard sees the answer before the client does (it may replace it)", async () => {
    const { guard, seen } = scriptedGuard(async (c) =>
      c.arguments.text === "withhold"
        ? { forward: true, answered: async () => ({ result: { isError: true, content: [{ type: "text", text: "withheld" }] } }) }
        : allow(seen),
    );
    const { client, up, session } = await joined(guard);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "hello" } }))).toBe("hello");
    expect(seen.answers).toEqual([{ result: { content: [{ type: "text", text: "hello" }] } }]);
    expect(seen.calls[0]).toMatchObject({ name: "echo", arguments: { text: "hello" } });
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "withhold" } }))).toBe("withheld");
    expect(up.ran).toEqual(["echo", "echo"]);
    await session.close();
  });

  it("drops a held call the client cancelled: it never reaches the server, even when allowed later", async () => {
    const { guard, release } = allowedLater();
    const { client, up, session } = await joined(guard);
    const abort = new AbortController();
    const call = client.callTool({ name: "echo", arguments: { text: "late" } }, undefined, { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 20));
    abort.abort("changed my mind");
    await expect(call).rejects.toThrow();
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(up.ran).toEqual([]);
    // The session goes on.
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "next" } }))).toBe("next");
    await session.close();
  });

  it("carries progress back to the call it belongs to, and the server's own requests (elicitation) both ways", async () => {
    const { guard, seen } = scriptedGuard(async () => allow(seen));
    const { client, session } = await joined(guard, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      expect(req.params.message).toBe("Proceed?");
      return { action: "accept", content: { ok: true } };
    });
    const progress: number[] = [];
    const r = await client.callTool({ name: "slow", arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(textOf(r)).toBe("counted");
    expect(progress).toEqual([1, 2, 3]);
    expect(textOf(await client.callTool({ name: "confirm", arguments: {} }))).toBe("user said accept");
    await session.close();
  });

  it("lets the guard ask the person (elicitation) when the client can be asked, and not otherwise", async () => {
    const asked: string[] = [];
    const { guard, seen } = scriptedGuard(async (_c, ask) => {
      if (ask === undefined) return { forward: false, result: { isError: true, content: [{ type: "text", text: "cannot ask" }] } };
      const answer = await ask("Confirm echo?");
      asked.push(answer);
      return answer === "accept" ? allow(seen) : { forward: false, result: { isError: true, content: [{ type: "text", text: "declined" }] } };
    });
    const a = await joined(guard, { elicitation: {} });
    let reply: "accept" | "decline" = "accept";
    a.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: reply }));
    expect(textOf(await a.client.callTool({ name: "echo", arguments: { text: "yes" } }))).toBe("yes");
    reply = "decline";
    expect(textOf(await a.client.callTool({ name: "echo", arguments: { text: "no" } }))).toBe("declined");
    expect(asked).toEqual(["accept", "decline"]);
    expect(a.up.ran).toEqual(["echo"]);
    await a.session.close();

    const b = await joined(guard); // no elicitation capability
    expect(textOf(await b.client.callTool({ name: "echo", arguments: { text: "?" } }))).toBe("cannot ask");
    expect(b.up.ran).toEqual([]);
    await b.session.close();
  });

  it("forwards nothing of a call held when the client goes away, and passes an unknown method's error back", async () => {
    const { guard, release } = allowedLater();
    const { client, up, session } = await joined(guard);
    await expect(client.request({ method: "vigil/no-such-method", params: {} }, ToolListSchema)).rejects.toThrow(/Method not found/);
    void client.callTool({ name: "echo", arguments: { text: "orphan" } }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    await client.close();
    await session.closed;
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(up.ran).toEqual([]);
  });

  it("answers a question still open to the person with cancel when the session closes, so nothing waits for its timeout", async () => {
    const answers: string[] = [];
    const { guard } = scriptedGuard(async (_c, ask) => {
      answers.push(ask ? await ask("Confirm?") : "no ask");
      return { forward: false, result: { isError: true, content: [] } };
    });
    const { client, up, session } = await joined(guard, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, () => new Promise(() => {})); // the person never answers
    void client.callTool({ name: "echo", arguments: {} }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    await session.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(answers).toEqual(["cancel"]);
    expect(up.ran).toEqual([]);
  });

  it("does not forward a call whose guard failed, and answers every request in flight when the server goes away", async () => {
    const { guard } = scriptedGuard(async () => {
      throw new Error("kafka down");
    });
    const { client, up, session } = await joined(guard);
    const r = await client.callTool({ name: "echo", arguments: { text: "x" } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/could not decide/);
    expect(up.ran).toEqual([]);
    await up.server.close();
    await session.closed;
    await expect(client.listTools()).rejects.toThrow();
  });
});

describe("MCP relay against hostile peers (raw JSON-RPC)", () => {
  /** The relay between two raw ends: what the client side and the server side each receive. */
  async function raw(guard: Guard) {
    const [clientEnd, gatewayDown] = InMemoryTransport.createLinkedPair();
    const [gatewayUp, serverEnd] = InMemoryTransport.createLinkedPair();
    const toClient: JSONRPCMessage[] = [];
    const toServer: JSONRPCMessage[] = [];
    clientEnd.onmessage = (m) => void toClient.push(m);
    serverEnd.onmessage = (m) => void toServer.push(m);
    await clientEnd.start();
    await serverEnd.start();
    const session = await relay(gatewayDown, gatewayUp, guard);
    const settle = () => new Promise((r) => setTimeout(r, 30));
    return { clientEnd, serverEnd, toClient, toServer, session, settle };
  }
  const call = (id: number | string, params: Record<string, unknown>): JSONRPCMessage => ({ jsonrpc: "2.0", id, method: "tools/call", params });

  it("refuses a request whose id is already in flight, and drops a server's answer to nothing in flight", async () => {
    const { guard } = allowedLater();
    const r = await raw(guard);
    await r.clientEnd.send(call(5, { name: "echo", arguments: {} }));
    await r.clientEnd.send({ jsonrpc: "2.0", id: 5, method: "ping" });
    // A hostile server answers the call Vigil is still holding: nothing reaches the client.
    await r.serverEnd.send({ jsonrpc: "2.0", id: 5, result: { content: [{ type: "text", text: "SPOOFED" }] } });
    await r.settle();
    expect(r.toServer).toEqual([]);
    expect(r.toClient).toEqual([{ jsonrpc: "2.0", id: 5, error: { code: -32600, message: "a request with this id is already in flight" } }]);
    await r.session.close();
  });

  it("never forwards a tools/call that is not a well-formed request: no id, a name that is not a string, arguments that are not an object, a task", async () => {
    const calls: string[] = [];
    const r = await raw({ initialize: () => {}, tools: () => {}, call: async (c) => (calls.push(c.name), { forward: true, answered: async (a) => a }) });
    await r.clientEnd.send({ jsonrpc: "2.0", method: "tools/call", params: { name: "write_file", arguments: {} } } as JSONRPCMessage);
    await r.clientEnd.send(call(1, { name: ["write_file"], arguments: {} }));
    await r.clientEnd.send(call(2, { name: "write_file", arguments: ["x"] }));
    await r.clientEnd.send(call(3, { name: "write_file", arguments: {}, task: { ttl: 1000 } }));
    await r.settle();
    expect(r.toServer).toEqual([]);
    expect(calls).toEqual([]);
    expect(r.toClient.map((m) => ("error" in m ? [m.id, m.error.code] : m))).toEqual([
      [1, -32602],
      [2, -32602],
      [3, -32602],
    ]);
    await r.session.close();
  });

  it("does not offer task-augmented calls: the server's tasks capability is taken out of initialize", async () => {
    const r = await raw({ initialize: () => {}, tools: () => {}, call: async () => ({ forward: true, answered: async (a) => a }) });
    await r.clientEnd.send({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "c", version: "1" } },
    });
    await r.settle();
    await r.serverEnd.send({
      jsonrpc: "2.0",
      id: 0,
      result: {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } },
        serverInfo: { name: "s", version: "1" },
      },
    });
    await r.settle();
    expect(r.toClient).toEqual([
      { jsonrpc: "2.0", id: 0, result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } } },
    ]);
    await r.session.close();
  });

  it("a tools/list result waits for the guard, which may leave tools out: the cursor and every other field go through unchanged", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const r = await raw({
      initialize: () => {},
      tools: async (tools) => {
        await released;
        return tools.filter((t) => (t as { name: string }).name !== "poisoned");
      },
      call: async () => ({ forward: true, answered: async (a) => a }),
    });
    await r.clientEnd.send({ jsonrpc: "2.0", id: 7, method: "tools/list", params: { cursor: "page-2" } });
    await r.settle();
    expect(r.toServer).toEqual([{ jsonrpc: "2.0", id: 7, method: "tools/list", params: { cursor: "page-2" } }]);
    const result = {
      tools: [
        { name: "honest", inputSchema: { type: "object" } },
        { name: "poisoned", inputSchema: { type: "object" } },
      ],
      nextCursor: "page-3",
      _meta: { k: 1 },
    };
    await r.serverEnd.send({ jsonrpc: "2.0", id: 7, result });
    await r.settle();
    expect(r.toClient).toEqual([]);
    release();
    await r.settle();
    expect(r.toClient).toEqual([{ jsonrpc: "2.0", id: 7, result: { tools: [result.tools[0]], nextCursor: "page-3", _meta: { k: 1 } } }]);
    await r.session.close();
  });

  it("a tools/list result the guard keeps whole, or fails on, is relayed exactly as the server sent it", async () => {
    const guards: [Guard["tools"], boolean][] = [
      [async () => undefined, false],
      [() => {}, false],
      [async (): Promise<undefined> => Promise.reject(new Error("boom")), true],
    ];
    for (const [tools, fails] of guards) {
      const logged: string[] = [];
      const [clientEnd, gatewayDown] = InMemoryTransport.createLinkedPair();
      const [gatewayUp, serverEnd] = InMemoryTransport.createLinkedPair();
      const toClient: JSONRPCMessage[] = [];
      clientEnd.onmessage = (m) => void toClient.push(m);
      serverEnd.onmessage = () => {};
      await clientEnd.start();
      await serverEnd.start();
      const session = await relay(
        gatewayDown,
        gatewayUp,
        { initialize: () => {}, tools, call: async () => ({ forward: true, answered: async (a) => a }) },
        { log: (m) => void logged.push(m) },
      );
      await clientEnd.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
      const result = { tools: [{ name: "a", inputSchema: { type: "object" } }], nextCursor: "n" };
      await new Promise((resolve) => setTimeout(resolve, 10));
      await serverEnd.send({ jsonrpc: "2.0", id: 1, result });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(toClient).toEqual([{ jsonrpc: "2.0", id: 1, result }]);
      expect(logged.some((m) => m.includes("the guard failed on a tool list"))).toBe(fails);
      await session.close();
    }
  });
});
