import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Registry } from "prom-client";

// /healthz (the process is up), /readyz (joined the group and Redis answers), /metrics,
// /.well-known/jwks.json (the public keys that verify the processor's signed records), and
// the review API and page and the SSF endpoints when given (adapters/review-http.ts,
// ssf-http.ts). Plain HTTP, or HTTPS with VIGIL_HTTP_TLS_* (client certificates asked for,
// never required).

export interface HttpDeps {
  readonly registry: Registry;
  /** Further routes (the review API and page): handles the request and returns true, or returns false. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  readonly jwks?: { readonly keys: readonly object[] };
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  /** Serve HTTPS; with `clientCaFile`, ask for client certificates and verify them against it (a request without one is still served: each route decides). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined } | undefined;
}

export class HttpTlsError extends Error {}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new HttpTlsError(`${variable}: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`);
  }
}

export async function startHttp(host: string, port: number, d: HttpDeps): Promise<Server> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
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
  };
  const t = d.tls;
  const server: Server = t
    ? createHttpsServer(
        {
          cert: readPem(t.certFile, "VIGIL_HTTP_TLS_CERT_FILE"),
          key: readPem(t.keyFile, "VIGIL_HTTP_TLS_KEY_FILE"),
          ...(t.clientCaFile ? { ca: readPem(t.clientCaFile, "VIGIL_HTTP_TLS_CLIENT_CA_FILE"), requestCert: true, rejectUnauthorized: false } : {}),
        },
        handler,
      )
    : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
