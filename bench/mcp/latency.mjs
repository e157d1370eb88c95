// The MCP gateway's cost per call (issue 24): the same MCP client calling the same stdio
// server (bench/mcp/echo-server.mjs) directly, then through `vigil mcp` in enforce mode with
// the live processor deciding every call (the local stack: Kafka, Redis). Calls start on a
// fixed schedule (open loop, `rate` per second, not one after another), so a slow call does
// not slow the schedule; each latency is from the call's start to its answer. Reported as
// p50 / p95 / p99 in milliseconds for both paths, and the difference of each percentile.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { freePort, startProcessor, stopProcessor } from "../live.mjs";

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "cli", "main.js");
const echo = join(import.meta.dirname, "echo-server.mjs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const percentiles = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
};

async function connect(command, args, env) {
  const client = new Client({ name: "vigil-bench", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: "ignore" }));
  return client;
}

/** `calls` calls of `echo` started `rate` per second; the latency of each, ms. */
async function run(client, calls, rate) {
  const latencies = [];
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const start = performance.now();
    pending.push(
      client.callTool({ name: "echo", arguments: { text: `call ${i}` } }).then((r) => {
        if (r.isError) throw new Error(`call ${i} was refused: ${JSON.stringify(r.content)}`);
        latencies.push(performance.now() - start);
      }),
    );
  }
  await Promise.all(pending);
  return latencies;
}

/** Measures both paths. `env` is an isolated processor environment (bench/live.mjs runEnv). */
export async function mcpGatewayLatency(env, { calls, rate, warmup }) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-mcp-"));
  const port = await freePort();
  const runEnv = { ...env, VIGIL_HTTP_PORT: String(port), VIGIL_HTTP_HOST: "127.0.0.1", VIGIL_SIGNING_KEY_FILE: join(dir, "key.jwk") };
  const servers = join(dir, "servers.json");
  writeFileSync(servers, JSON.stringify({ mcpServers: { echo: { command: process.execPath, args: [echo] } } }));
  const processor = startProcessor(runEnv);
  try {
    // The processor is up once its key set is served.
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error(`the processor did not come up: ${processor.stderr()}`);
      await sleep(100);
    }
    const direct = await connect(process.execPath, [echo], {});
    await run(direct, warmup, rate);
    const directMs = await run(direct, calls, rate);
    await direct.close();

    const gateway = await connect(process.execPath, [cli, "mcp", "--config", servers, "--goal", "Echo the texts I give you", "--hold-ms", "10000"], runEnv);
    await gateway.listTools();
    await run(gateway, warmup, rate);
    const gatewayMs = await run(gateway, calls, rate);
    await gateway.close();

    const d = percentiles(directMs);
    const g = percentiles(gatewayMs);
    return {
      calls,
      ratePerSec: rate,
      direct: d,
      gateway: g,
      added: { p50: Math.round((g.p50 - d.p50) * 100) / 100, p95: Math.round((g.p95 - d.p95) * 100) / 100, p99: Math.round((g.p99 - d.p99) * 100) / 100 },
    };
  } finally {
    await stopProcessor(processor);
    rmSync(dir, { recursive: true, force: true });
  }
}
