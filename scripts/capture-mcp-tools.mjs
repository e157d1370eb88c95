#!/usr/bin/env node
// Captures the tool listings of the reference MCP servers installed in node_modules
// (@modelcontextprotocol/server-filesystem, server-everything, server-memory) through the
// SDK's client over stdio, into test/fixtures/mcp/reference-tools.json: the honest
// descriptions Vigil's MCP findings must not flag (test/core/mcp-tools.test.ts). Run it
// again after upgrading those packages:
//
//   node scripts/capture-mcp-tools.mjs
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { URL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** Each server's command line; the filesystem server is given an empty folder, the memory server a file in it. */
export function referenceServers(root, dir) {
  const dist = (name) => join(root, "node_modules", "@modelcontextprotocol", name, "dist", "index.js");
  return {
    filesystem: { args: [dist("server-filesystem"), dir] },
    everything: { args: [dist("server-everything"), "stdio"] },
    memory: { args: [dist("server-memory")], env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
  };
}

/** Every tool a server lists, page by page. */
export async function listTools(spec) {
  const transport = new StdioClientTransport({ command: process.execPath, args: spec.args, env: { ...process.env, ...spec.env }, stderr: "ignore" });
  const client = new Client({ name: "vigil-capture", version: "1.0.0" });
  await client.connect(transport);
  try {
    const tools = [];
    let cursor;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await client.close();
  }
}

if (import.meta.url === new URL(process.argv[1] ?? "", "file://").href) {
  const root = new URL("..", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "vigil-capture-"));
  try {
    const out = {};
    for (const [name, spec] of Object.entries(referenceServers(root, dir))) out[name] = await listTools(spec);
    const file = new URL("../test/fixtures/mcp/reference-tools.json", import.meta.url);
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`wrote test/fixtures/mcp/reference-tools.json (${Object.values(out).reduce((n, t) => n + t.length, 0)} tools)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
