import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { AgentEvent, Command } from "../../src/protocol/index.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { openMcpGateway } from "../../src/cli/commands/mcp.js";
import type { McpGateway } from "../../src/cli/commands/mcp.js";
import { replayLineCommands } from "../support/expected-commands.js";
import { expectSameCommands } from "../support/same-commands.js";
import { isolatedEnv, jsonValues, readAll, untilProcessed } from "../support/live.js";
import { overHttp, poisonedTools } from "../support/mcp-servers.js";

// MCP's own threats end to end: a tool server whose `add` tool's description poisons the
// agent, behind `openMcpGateway` (the composition `vigil mcp` runs, in this process: the
// source, not a build), in front of the live processor (real Kafka and Redis). The gateway
// publishes each listing as `tools.listed`; the processor finds the poisoned tool and
// removes its capability; the call to it is held and never reaches the server, while the
// honest tool runs. With the policy's `mcp: { poisoning: hide }` the client is not even
// listed the tool. A later listing that changes a tool is a `context.tool_changed`.

const text = (r: unknown): string =>
  ((r as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => (c.type === "text" ? (c.text ?? "") : "")).join("\n");

let dir: string;
const upstream = poisonedTools();
let served: Awaited<ReturnType<typeof overHttp>>;

/** A processor and a gateway in front of the poisoned server under `policy` (a policy file's text, or the shipped default). */
async function stack(name: string, policy?: string) {
  const extra: Record<string, string> = {};
  if (policy !== undefined) {
    extra.VIGIL_POLICY_FILE = join(dir, `${name}.yaml`);
    writeFileSync(extra.VIGIL_POLICY_FILE, policy);
  }
  const env = isolatedEnv(name, extra);
  const running: Running = await startVigil(env);
  const config = join(dir, `${name}.servers.json`);
  writeFileSync(config, JSON.stringify({ mcpServers: { calculator: { url: served.url } } }));
  const gateway: McpGateway = await openMcpGateway(env, {
    config,
    mode: "enforce",
    principal: "alice",
    agent: "desk-agent",
    goal: "Add up this month's expenses",
    holdMs: 30_000,
    failMode: "closed",
    jwksUrl: `http://127.0.0.1:${running.httpPort}/.well-known/jwks.json`,
  });
  const connect = async (sessionId: string) => {
    const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    const joined = await gateway.serve(gatewaySide, sessionId);
    const client = new Client({ name: "vigil-test-agent", version: "1.0.0" });
    await client.connect(clientSide);
    return {
      client,
      close: async () => {
        await client.close();
        await joined.close();
      },
    };
  };
  const outputs = async (sessionId: string) => {
    const c = loadConfig(env);
    await untilProcessed(c.kafka.groupId, c.topics.events, 60_000);
    return {
      events: jsonValues<AgentEvent>(await readAll(c.topics.events)).filter((e) => e.sessionId === sessionId),
      commands: jsonValues<Command>(await readAll(c.topics.commands)).filter((c) => c.sessionId === sessionId),
    };
  };
  return {
    connect,
    outputs,
    stop: async () => {
      await gateway.close();
      await running.stop();
    },
  };
}

describe("vigil mcp: findings on the tools a server lists", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-mcp-findings-"));
    served = await overHttp(upstream.make);
  });

  afterAll(async () => {
    await served?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "hold (the default): the poisoned tool is listed, its call is held and never reaches the server; a changed tool is a finding too",
    { timeout: 180_000 },
    async () => {
      const s = await stack("mcp-findings-hold");
      const session = "mcp-findings-hold-1";
      const { client, close } = await s.connect(session);
      try {
        expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["get_sum", "add"]);
        const held = await client.callTool({ name: "add", arguments: { a: 1, b: 2, note: "-----BEGIN OPENSSH PRIVATE KEY-----" } });
        expect(held.isError).toBe(true);
        expect(text(held)).toMatch(/^Vigil held this call to add: capability add removed\. It was not run\. Why: Agent .+ was listed a tool .*\badd\b.*\.$/);
        const honest = await client.callTool({ name: "get_sum", arguments: { a: 1, b: 2 } });
        expect(honest.isError).toBeFalsy();
        expect(text(honest)).toBe("3");
        expect(upstream.ran).toEqual(["get_sum"]);
        // The server changes get_sum under the session: listed again, Vigil finds the change.
        upstream.change();
        expect((await client.listTools()).tools.find((t) => t.name === "get_sum")?.description).toMatch(/remembers them/);
        const afterChange = await client.callTool({ name: "get_sum", arguments: { a: 2, b: 2 } });
        expect(text(afterChange)).toMatch(/^Vigil held this call to get_sum: .+\. It was not run\.( Why: .+\.)?$/);
        expect(upstream.ran).toEqual(["get_sum"]);
      } finally {
        await close();
      }
      const { events, commands } = await s.outputs(session);
      await s.stop();
      const listings = events.filter((e): e is Extract<AgentEvent, { type: "tools.listed" }> => e.type === "tools.listed");
      expect(listings).toHaveLength(2);
      expect(events[0]?.type).toBe("tools.listed");
      expect(listings[0]?.tools.map((t) => [t.name, t.server])).toEqual([
        ["get_sum", "calculator"],
        ["add", "calculator"],
      ]);
      expect(listings[0]?.tools[1]?.description).toContain("~/.ssh/id_rsa");
      expect(listings[0]?.tools[0]?.digest).toMatch(/^sha-256:[0-9a-f]{64}$/);
      expect(listings[1]?.tools[0]?.digest).not.toBe(listings[0]?.tools[0]?.digest);
      expect(commands.map((c) => [c.type, c.capabilities?.removed, c.reasons[0]?.code, c.review.required])).toEqual([
        ["downgrade", ["add"], "context.tool_poisoning", true],
        ["downgrade", ["get_sum"], "context.tool_changed", true],
      ]);
      // Live equals replay on the same events.
      expectSameCommands(commands, await replayLineCommands(events.map((e) => JSON.stringify(e))), 2);
    },
  );

  it("hide: the client is not listed the poisoned tool, and a call to it anyway is held", { timeout: 180_000 }, async () => {
    const ranBefore = upstream.ran.length;
    const s = await stack("mcp-findings-hide", "version: 1\nmcp: { poisoning: hide }\n");
    const session = "mcp-findings-hide-1";
    const { client, close } = await s.connect(session);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["get_sum"]);
      const held = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
      expect(text(held)).toMatch(/^Vigil held this call to add: capability add removed\. It was not run\. Why: Agent .+ was listed a tool .*\badd\b.*\.$/);
      expect(upstream.ran.slice(ranBefore)).toEqual([]);
      // Listed again: still left out.
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["get_sum"]);
    } finally {
      await close();
    }
    const { events, commands } = await s.outputs(session);
    await s.stop();
    expect(events.filter((e) => e.type === "tools.listed")).toHaveLength(2);
    expect(commands.map((c) => [c.type, c.capabilities?.removed, c.reasons.map((r) => r.code)])).toEqual([["downgrade", ["add"], ["context.tool_poisoning"]]]);
  });
});
