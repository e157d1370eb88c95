import { createServer } from "node:http";
import type { Server } from "node:http";
import type { Registry } from "prom-client";

// /healthz (the process is up), /readyz (joined the group and Redis answers), /metrics.

export interface HttpDeps {
  readonly registry: Registry;
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
}

export async function startHttp(host: string, port: number, d: HttpDeps): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, JSON.stringify({ error: "method not allowed" }));
    if (path === "/healthz") return send(200, JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      d.ready().then(
        (r) => send(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? "ready" : "not ready", ...r.checks })),
        (e: unknown) => send(503, JSON.stringify({ status: "not ready", error: String(e) })),
      );
      return;
    }
    if (path === "/metrics") {
      d.registry.metrics().then(
        (text) => send(200, text, d.registry.contentType),
        (e: unknown) => send(500, String(e), "text/plain"),
      );
      return;
    }
    send(404, JSON.stringify({ error: "not found", paths: ["/healthz", "/readyz", "/metrics"] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
