import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { getRequestListener, RequestError } from "@hono/node-server";
import type { HttpBindings } from "@hono/node-server";
import type { Registry } from "prom-client";
import { HTTP_LIMITS, HttpError, asHttpError, door, errorResponse, resource } from "./http-app.js";
import type { Door } from "./http-app.js";

// The processor's HTTP port: the app of http-app.ts, with every door mounted on it, served
// over plain HTTP or HTTPS with VIGIL_HTTP_TLS_* (client certificates asked for, never
// required: each door decides, through requireAuth). And the first door:
// /healthz (the process is up), /readyz (joined the group and Redis answers), /metrics, and
// /.well-known/jwks.json (the public keys that verify the processor's signed records).

export interface HealthDeps {
  readonly registry: Registry;
  readonly jwks?: { readonly keys: readonly object[] } | undefined;
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
}

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** Ask for client certificates and verify them against this CA (a request without one is still served: each door decides). */
  readonly clientCaFile?: string | undefined;
}

export class HttpTlsError extends Error {
  readonly code = "TLS_CONFIG_INVALID";
}

/** Health, readiness, metrics and the JWKS; GET only. */
export function healthDoor(d: HealthDeps): Door {
  const app = door();
  resource(app, "/healthz", { GET: (c) => c.json({ status: "ok" }) });
  resource(app, "/readyz", {
    GET: async (c) => {
      try {
        const r = await d.ready();
        return c.json({ status: r.ready ? "ready" : "not ready", ...r.checks }, r.ready ? 200 : 503);
      } catch (e) {
        return c.json({ status: "not ready", error: String(e) }, 503);
      }
    },
  });
  resource(app, "/metrics", { GET: async (c) => c.body(await d.registry.metrics(), 200, { "content-type": d.registry.contentType }) });
  const jwks = d.jwks;
  if (jwks) resource(app, "/.well-known/jwks.json", { GET: (c) => c.body(JSON.stringify(jwks), 200, { "content-type": "application/jwk-set+json" }) });
  return app;
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new HttpTlsError(`${variable}: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Serves `app` on host:port (0: any free port); resolves once listening, rejects when it cannot listen (the port in use). */
export async function startHttp(host: string, port: number, app: Door, tls?: TlsSettings): Promise<Server> {
  const listener = getRequestListener((request, env) => app.fetch(request, env as HttpBindings), {
    // A request without a Host header (HTTP/1.0) is still served.
    hostname: "localhost",
    // Leave the process's global Request and Response alone: kafkajs, jose and the SDKs share it.
    overrideGlobalObjects: false,
    // What never reached the app (an unparsable request target or Host) gets the one error shape too.
    errorHandler: (e) => errorResponse(e instanceof RequestError ? new HttpError(400, `bad request: ${e.message}`) : asHttpError(e)),
  });
  const timeouts = { headersTimeout: HTTP_LIMITS.headersTimeoutMs, requestTimeout: HTTP_LIMITS.requestTimeoutMs };
  const server: Server = tls
    ? createHttpsServer(
        {
          ...timeouts,
          cert: readPem(tls.certFile, "VIGIL_HTTP_TLS_CERT_FILE"),
          key: readPem(tls.keyFile, "VIGIL_HTTP_TLS_KEY_FILE"),
          ...(tls.clientCaFile ? { ca: readPem(tls.clientCaFile, "VIGIL_HTTP_TLS_CLIENT_CA_FILE"), requestCert: true, rejectUnauthorized: false } : {}),
        },
        listener,
      )
    : createServer(timeouts, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
