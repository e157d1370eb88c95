import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Registry } from "prom-client";

// /healthz (the process is up), /readyz (joined the group and Redis answers), /metrics,
// /.well-known/jwks.json (the public keys that verify the processor's signed records), and
// the review API and page when given (adapters/review-http.ts).

export interface HttpDeps {
  readonly registry: Registry;
  /** Further routes (the review API and page): handles the request and returns true, or returns false. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  readonly jwks?: { readonly keys: readonly object[] };
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
}

export async function startHttp(host: string, port: number, d: HttpDeps): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (d.routes?.(req, res, path ?? "/")) return;
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
    if (path === "/.well-known/jwks.json" && d.jwks) return send(200, JSON.stringify(d.jwks), "application/jwk-set+json");
    send(404, JSON.stringify({ error: "not found", paths: ["/healthz", "/readyz", "/metrics", ...(d.jwks ? ["/.well-known/jwks.json"] : [])] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
