import { createHash, randomUUID } from "node:crypto";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../../config/config.js";
import { jsonLogger } from "../../adapters/logger.js";
import { createKafka } from "../../adapters/kafka/client.js";
import { schemaRegistry } from "../../adapters/schema-registry.js";
import { relay } from "../../adapters/mcp/relay.js";
import { startMcpHttp } from "../../adapters/mcp/http.js";
import { loadUpstreams, upstreamsTransport } from "../../adapters/mcp/upstreams.js";
import type { UpstreamSpec } from "../../adapters/mcp/upstreams.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { NAMESPACE_SEPARATOR } from "../../adapters/mcp/multiplex.js";
import { loadPolicy } from "../../adapters/policy-file.js";
import { bearerName, loadBearerTokens } from "../../adapters/http-auth.js";
import type { IncomingMessage } from "node:http";
import { createMcpGuard } from "../../app/mcp-guard.js";
import type { McpGuardOptions, McpGuardPorts } from "../../app/mcp-guard.js";
import { createPublisher, toolOutput } from "../../sdk/publisher.js";
import type { Publisher } from "../../sdk/publisher.js";
import { citedCommands } from "../../compose/cited-commands.js";
import { createEnforcer } from "../../sdk/enforcer.js";
import type { Enforcer } from "../../sdk/enforcer.js";
import { mcpCatalogEntry, policyFromCatalog, toCatalogTool } from "../../tooling/policy-from-catalog.js";
import type { McpTool } from "../../tooling/policy-from-catalog.js";
import type { ActionKind, Command, OutputTrust } from "../../protocol/index.js";

// `vigil mcp`: the verifying MCP gateway (docs/mcp.md). A composition root: the upstream
// servers from the ecosystem's config file, the publisher and enforcer SDKs on Vigil's
// topics (same VIGIL_* settings as `vigil start`), a guard per MCP session, served over stdio
// (an MCP client spawns `vigil mcp --config servers.json`) or Streamable HTTP (`--listen`).
// In stdio mode stdout is the protocol: everything else goes to stderr.

type Env = Readonly<Record<string, string | undefined>>;

export interface McpOptions {
  readonly config: string;
  readonly listen?: string;
  readonly mode: "enforce" | "monitor";
  readonly principal: string;
  readonly agent: string;
  readonly goal?: string;
  readonly holdMs: number;
  readonly failMode: "closed" | "open";
  readonly jwksUrl?: string;
  readonly allowedOrigins?: readonly string[];
  readonly allowedHosts?: readonly string[];
  readonly onToolChange?: "hold" | "report";
  /** stdio: the Vigil session id of the one MCP session (default `mcp-<uuid>`). */
  readonly session?: string;
}

export class McpUsageError extends Error {
  readonly code = "MCP_USAGE_INVALID";
}

/**
 * Kind and output trust of a listed tool, inferred from its MCP definition, unless the
 * operator's policy lists it: then nothing is inferred, and the processor reads the policy's
 * entry (an event's own kind and trust would override the policy's).
 */
const classifier =
  (listed: ReadonlySet<string>, namespaced: boolean) =>
  (tool: Readonly<Record<string, unknown>>): { kind?: ActionKind; trust?: OutputTrust } => {
    if (typeof tool.name !== "string" || listed.has(tool.name)) return {};
    // Several servers: a tool is read by its own name, not the server's prefix.
    const at = namespaced ? tool.name.indexOf(NAMESPACE_SEPARATOR) : -1;
    const entry = mcpCatalogEntry({ ...(tool as unknown as McpTool), name: at > 0 ? tool.name.slice(at + NAMESPACE_SEPARATOR.length) : tool.name });
    return { ...(entry.kind ? { kind: entry.kind } : {}), ...(entry.outputTrust ? { trust: entry.outputTrust } : {}) };
  };

/** The gateway's parts shared by every MCP session: the upstreams, the publisher and (enforce) the enforcer on Vigil's topics. */
export interface McpGateway {
  readonly upstreams: readonly UpstreamSpec[];
  /** The joined names of the upstream servers (the results' `source.origin`). */
  readonly server: string;
  /** Serves one MCP session: `client` (a server transport, the agent's side) joined to new transports to the upstreams, with its own guard. */
  serve(client: Transport, sessionId: string, who?: { principal: string; agent: string }): ReturnType<typeof relay>;
  close(): Promise<void>;
}

/**
 * Opens the gateway's shared parts. `decorate` may wrap the guard's ports: the composition's
 * one seam, for a test that drives the gateway's clock and ids from recorded traces
 * (test/live/mcp-replay.e2e.test.ts); the command never passes it.
 */
export async function openMcpGateway(
  env: Env,
  options: Omit<McpOptions, "listen" | "session" | "allowedOrigins" | "allowedHosts">,
  decorate: (ports: McpGuardPorts) => McpGuardPorts = (p) => p,
): Promise<McpGateway> {
  const upstreams = loadUpstreams(options.config);
  const server = upstreams.map((u) => u.name).join("+");
  const config = loadConfig(env);
  const log = jsonLogger(config.logLevel);
  // The processor's policy: its catalog (tools it lists are not inferred) and its `mcp` section (which findings hide a tool).
  const policy = loadPolicy(config.policyFile);
  const classify = classifier(new Set(policy.tools.keys()), upstreams.length > 1);
  // Several servers: a tool's server is its name's prefix (multiplex.ts).
  const serverOf = (tool: string): string => {
    const at = upstreams.length > 1 ? tool.indexOf(NAMESPACE_SEPARATOR) : -1;
    return at > 0 ? tool.slice(0, at) : server;
  };
  const kafka = createKafka(config, log, "-mcp");
  const publisher: Publisher = await createPublisher({ kafka, topic: config.topics.events, clientId: `${config.kafka.clientId}-mcp`, lingerMs: 0 });
  let enforcer: Enforcer | undefined;
  let cited: ((sessionId: string) => Promise<Command | undefined>) | undefined;
  if (options.mode === "enforce") {
    const jwksUrl = options.jwksUrl ?? `http://${config.http.host}:${config.http.port}/.well-known/jwks.json`;
    enforcer = await createEnforcer({
      kafka,
      topicPrefix: config.topics.prefix,
      enforcerId: `mcp-gateway-${server}`,
      verify: { jwksUrl },
      log: (message, fields) => log.warn(message, fields),
      ...(config.registryUrl ? { registry: schemaRegistry(config.registryUrl) } : {}),
    });
    cited = citedCommands(enforcer);
    await enforcer.start();
  }
  const decider = enforcer;
  const ports: McpGuardPorts = decorate({
    publish: async (event) => {
      await publisher.publish(event);
    },
    decided: (sessionId, time, timeoutMs) => (decider ? decider.decided(sessionId, time, timeoutMs) : Promise.resolve(true)),
    check: (sessionId, capability) => {
      if (decider === undefined) return { outcome: "allow" };
      const verdict = decider.check(sessionId, capability);
      // An MCP call names no resource of Vigil's: a capability denied on any resource is denied here (fail closed).
      const on = verdict.outcome === "allow" ? decider.session(sessionId)?.enforcement.deniedOn.find((d) => d.capability === capability) : undefined;
      return on ? { outcome: "deny", reason: `capability ${capability} denied on ${on.resourceId}` } : verdict;
    },
    why: async (sessionId) => {
      const command = await cited?.(sessionId);
      // Only a command that restricts says why a call is refused or asked about.
      return command?.type === "revoke" || command?.type === "downgrade" || command?.type === "step_up" ? command.explanation : undefined;
    },
    now: () => Date.now(),
    newId: randomUUID,
    output: (text) => toolOutput(text, { digest: sha256Digest(text) }),
    digest: sha256Digest,
    classify,
    log: (message, fields) => log.warn(message, fields),
  });
  const guardOptions = (sessionId: string, who?: { principal: string; agent: string }): McpGuardOptions => ({
    mode: options.mode,
    holdMs: options.holdMs,
    failMode: options.failMode,
    sessionId,
    agent: { id: who?.agent ?? options.agent },
    principal: { id: who?.principal ?? options.principal },
    ...(options.goal !== undefined ? { goal: options.goal } : {}),
    server,
    ...(options.onToolChange ? { onToolChange: options.onToolChange } : {}),
    serverOf,
    policy,
  });
  return {
    upstreams,
    server,
    serve: (client, sessionId, who) =>
      relay(client, upstreamsTransport(upstreams), createMcpGuard(guardOptions(sessionId, who), ports), { log: (m, f) => log.warn(m, f) }),
    close: async () => {
      await Promise.allSettled([publisher.close(), enforcer?.stop()]);
    },
  };
}

/** `sha-256:<hex>`, as core's textDigest writes it, with Node's native hash: it runs on every call's result, on the client's path. */
const sha256Digest = (text: string): string => `sha-256:${createHash("sha256").update(text).digest("hex")}`;

/** Runs the gateway until the stdio client goes away, or (HTTP) until SIGTERM / SIGINT. */
export async function mcpCommand(env: Env, options: McpOptions): Promise<number> {
  const config = loadConfig(env);
  const log = jsonLogger(config.logLevel);
  const gateway = await openMcpGateway(env, options);
  const { server } = gateway;
  const shutDown = () => gateway.close();

  if (options.listen === undefined) {
    const session = options.session ?? `mcp-${randomUUID()}`;
    const joined = await gateway.serve(new StdioServerTransport(), session);
    log.info("vigil mcp: serving on stdio", { upstream: server, mode: options.mode, session });
    const stop = () => void joined.close();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    await joined.closed;
    await shutDown();
    return 0;
  }

  const at = options.listen.lastIndexOf(":");
  const host = at > 0 ? options.listen.slice(0, at).replace(/^\[(.*)\]$/, "$1") : "127.0.0.1";
  const port = Number(options.listen.slice(at + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new McpUsageError(`--listen ${options.listen}: expected host:port, e.g. 127.0.0.1:8765`);
  // Bearer tokens name `<principal>/<agent>` (the agent part optional): each MCP session speaks for the token's holder.
  const tokens = loadBearerTokens({
    inline: config.mcpTokens.inline,
    file: config.mcpTokens.file,
    inlineVariable: "VIGIL_MCP_TOKENS",
    fileVariable: "VIGIL_MCP_TOKENS_FILE",
    split: "first",
  });
  const identityOf = (name: string | undefined) => {
    if (name === undefined) return undefined;
    const at = name.indexOf("/");
    return at < 0 ? { principal: name, agent: options.agent } : { principal: name.slice(0, at), agent: name.slice(at + 1) || options.agent };
  };
  const listener = await startMcpHttp({
    host,
    port,
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(tokens.size > 0 ? { identify: (req: IncomingMessage) => bearerName(req, tokens) } : {}),
    open: (transport, sessionId, who) => gateway.serve(transport, `mcp-${sessionId}`, identityOf(who)),
    log: (m, f) => log.warn(m, f),
  });
  process.stderr.write(`vigil mcp: ${listener.url} → ${server} (${options.mode})\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await listener.close();
  await shutDown();
  return 0;
}

/** `vigil mcp catalog --config f`: the policy whose tool catalog is what the server lists now. */
export async function mcpCatalogCommand(file: string): Promise<number> {
  const upstreams = loadUpstreams(file);
  const client = new Client({ name: "vigil-mcp-catalog", version: "1" });
  await client.connect(upstreamsTransport(upstreams));
  try {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...(page.tools as McpTool[]));
      cursor = page.nextCursor;
    } while (cursor !== undefined && tools.length < 4096);
    process.stdout.write(policyFromCatalog(tools.map(toCatalogTool), `mcp:${upstreams.map((u) => u.name).join("+")}`));
  } finally {
    await client.close();
  }
  return 0;
}
