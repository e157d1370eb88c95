#!/usr/bin/env node
// A minimal MCP server over stdio for the gateway's latency bench (bench/mcp/latency.mjs):
// one read-only tool, `echo`, that answers at once. What the bench measures is the path in
// front of it — the client alone, or the client through `vigil mcp` with Vigil deciding.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const server = new Server({ name: "bench-echo", version: "1.0.0" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: "echo",
      description: "Returns the text it is given",
      inputSchema: { type: "object", properties: { text: { type: "string" } } },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
  ],
}));
server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: "text", text: String(req.params.arguments?.text ?? "") }] }));
await server.connect(new StdioServerTransport());
