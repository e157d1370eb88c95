import { readFileSync } from "node:fs";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { z } from "zod";
import { HttpUpstreamTransport } from "./http-upstream.js";
import { MultiplexTransport } from "./multiplex.js";

// The gateway's upstream MCP servers, from a file in the shape MCP clients already use
// (Claude Desktop, Cursor, VS Code): `{"mcpServers": {"<name>": {"command", "args", "env",
// "cwd"} | {"url", "headers"}}}`. A stdio server is spawned once per MCP session (each
// session gets a fresh process, as a client would spawn it); a Streamable HTTP server gets
// one MCP session of its own per gateway session.

const StdioServer = z
  .object({
    command: z.string().min(1),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
  })
  .strict();
const HttpServer = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
    type: z.enum(["http", "streamable-http", "streamableHttp"]).optional(),
  })
  .strict();
const ServersFile = z.object({
  mcpServers: z.record(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, "a server name: letters, digits, _ and -, at most 32")
      .refine((n) => !n.includes("__"), "a server name without __ (it separates a server's name from its tools' names)"),
    z.unknown(),
  ),
});

export type UpstreamSpec = { readonly name: string } & (
  | {
      readonly kind: "stdio";
      readonly command: string;
      readonly args: readonly string[];
      readonly env?: Readonly<Record<string, string>>;
      readonly cwd?: string;
    }
  | { readonly kind: "http"; readonly url: string; readonly headers?: Readonly<Record<string, string>> }
);

export class UpstreamConfigError extends Error {
  readonly code = "MCP_SERVERS_INVALID";
}

/** Parses the servers file's text; errors name the file and the field (`mcpServers.files.command`). */
export function parseUpstreams(text: string, file: string): UpstreamSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UpstreamConfigError(`${file}: not JSON (${(e as Error).message})`);
  }
  const top = ServersFile.safeParse(json);
  if (!top.success) {
    const issue = top.error.issues[0];
    throw new UpstreamConfigError(
      `${file}: ${issue?.path.join(".") || "(top level)"}: ${issue?.message ?? "invalid"} (expected {"mcpServers": {"<name>": {...}}})`,
    );
  }
  const specs: UpstreamSpec[] = [];
  for (const [name, value] of Object.entries(top.data.mcpServers)) {
    const isHttp = typeof value === "object" && value !== null && "url" in value;
    const parsed = (isHttp ? HttpServer : StdioServer).safeParse(value);
    if (!parsed.success) {
      // A misspelt key ("comand") says more than the missing field it leaves.
      const issue = parsed.error.issues.find((i) => i.code === "unrecognized_keys") ?? parsed.error.issues[0];
      const field = ["mcpServers", name, ...(issue?.path ?? [])].join(".");
      throw new UpstreamConfigError(`${file}: ${field}: ${issue?.message ?? "invalid"} (a server is {"command", "args", "env", "cwd"} or {"url", "headers"})`);
    }
    const v = parsed.data as Record<string, unknown>;
    specs.push(
      isHttp
        ? { name, kind: "http", url: v.url as string, ...(v.headers ? { headers: v.headers as Record<string, string> } : {}) }
        : {
            name,
            kind: "stdio",
            command: v.command as string,
            args: (v.args as string[] | undefined) ?? [],
            ...(v.env ? { env: v.env as Record<string, string> } : {}),
            ...(v.cwd ? { cwd: v.cwd as string } : {}),
          },
    );
  }
  if (specs.length === 0) throw new UpstreamConfigError(`${file}: mcpServers names no server`);
  return specs;
}

export function loadUpstreams(file: string): UpstreamSpec[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UpstreamConfigError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseUpstreams(text, file);
}

/**
 * The transport to the servers of a file: the one server's own, or (several) one that
 * multiplexes them with namespaced names (multiplex.ts). Not started.
 */
export function upstreamsTransport(specs: readonly UpstreamSpec[]): Transport {
  const [only, ...more] = specs;
  if (only !== undefined && more.length === 0) return upstreamTransport(only);
  return new MultiplexTransport(specs.map((s) => ({ name: s.name, transport: upstreamTransport(s) })));
}

/**
 * A new client transport to the server (not started). A stdio server gets the few variables
 * the SDK passes by default (HOME, PATH, SHELL, TERM, USER, LOGNAME), plus its `env`; its
 * stderr goes to the gateway's. An HTTP server's standalone stream is open before the
 * session's first request goes to it (http-upstream.ts).
 */
export function upstreamTransport(spec: UpstreamSpec): Transport {
  if (spec.kind === "http") return new HttpUpstreamTransport(new URL(spec.url), spec.headers ? { headers: spec.headers } : {});
  return new StdioClientTransport({
    command: spec.command,
    args: [...spec.args],
    ...(spec.env ? { env: { ...getDefaultEnvironment(), ...spec.env } } : {}),
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    stderr: "inherit",
  });
}
