// A small MCP server made with the SDK, for the gateway's relay and multiplexer tests: three
// tools (echo, slow with progress, confirm asking the client by elicitation), one resource,
// and a record of which tools it ran.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema } from "@modelcontextprotocol/sdk/types.js";

export interface Upstream {
  server: Server;
  ran: string[];
}

export function upstreamServer(name = "upstream"): Upstream {
  const ran: string[] = [];
  const server = new Server({ name, version: "1.0.0" }, { capabilities: { tools: {}, resources: {}, logging: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: "echo", description: "Echo a text back", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
      { name: "slow", description: "Counts to three with progress", inputSchema: { type: "object" } },
      { name: "confirm", description: "Asks the user", inputSchema: { type: "object" } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    ran.push(req.params.name);
    if (req.params.name === "slow") {
      const token = req.params._meta?.progressToken;
      for (let i = 1; i <= 3; i++)
        if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: i, total: 3 } });
      return { content: [{ type: "text", text: "counted" }] };
    }
    if (req.params.name === "confirm") {
      const answer = await server.elicitInput({ message: "Proceed?", requestedSchema: { type: "object", properties: { ok: { type: "boolean" } } } });
      return { content: [{ type: "text", text: `user said ${answer.action}` }] };
    }
    return { content: [{ type: "text", text: String(req.params.arguments?.text ?? "") }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: `memo://${name}`, name: "memo" }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({ contents: [{ uri: req.params.uri, text: `${name} resource text` }] }));
  return { server, ran };
}
