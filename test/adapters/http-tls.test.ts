import { rmSync } from "node:fs";
import type { Server } from "node:http";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpApp } from "../../src/adapters/http-app.js";
import { HttpTlsError, healthDoor, startHttp } from "../../src/adapters/http-server.js";
import { loadReviewers, reviewDoor } from "../../src/adapters/review-http.js";
import type { ReviewService } from "../../src/app/review-service.js";
import { Registry } from "prom-client";
import { reviewersPki } from "../support/pki.js";

// HTTPS through @hono/node-server as VIGIL_HTTP_TLS_* configures it: client certificates are
// asked for and never required; requireAuth knows a reviewer by a certificate that verified
// against the client CA and whose CN is listed, read from the Node socket (c.env.incoming).
// The certificates: test/support/pki.ts, as in test/live/review-mtls.e2e.test.ts.

const TOKEN = "bob-review-token-0123456789";
let dir = "";
let file: (f: string) => string;
let read: (f: string) => Buffer;
let server: Server;
let port: number;

beforeAll(async () => {
  ({ dir, file, read } = reviewersPki("vigil-http-tls-"));
  const service = { list: async () => [{ caseId: "c-1" }] } as unknown as ReviewService;
  const app = httpApp();
  app.route("/", healthDoor({ registry: new Registry(), ready: async () => ({ ready: true, checks: {} }) }));
  app.route("/", reviewDoor(service, loadReviewers({ inline: `bob:${TOKEN}` }), new Set(["alice"])));
  server = await startHttp("127.0.0.1", 0, app, { certFile: file("server.crt"), keyFile: file("server.key"), clientCaFile: file("reviewers-ca.crt") });
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function call(path: string, o: { client?: string; token?: string } = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        ca: read("reviewers-ca.crt"),
        ...(o.client ? { cert: read(`${o.client}.crt`), key: read(`${o.client}.key`) } : {}),
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("HTTPS with client certificates", () => {
  it("serves without a certificate; a listed CN from the client CA is the reviewer; another CA or an unlisted CN is 401", async () => {
    expect(await call("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await call("/api/review/cases", { client: "alice" })).toEqual({ status: 200, body: { cases: [{ caseId: "c-1" }] } });
    for (const client of [undefined, "mallory", "carol"]) {
      expect(await call("/api/review/cases", client ? { client } : {})).toEqual({
        status: 401,
        body: { error: "a reviewer's bearer token or client certificate is required", code: "unauthorized" },
      });
    }
    expect((await call("/api/review/cases", { token: TOKEN })).status).toBe(200);
  });

  it("an unreadable certificate file names its variable", async () => {
    await expect(startHttp("127.0.0.1", 0, httpApp(), { certFile: file("missing.crt"), keyFile: file("server.key") })).rejects.toThrow(HttpTlsError);
    await expect(startHttp("127.0.0.1", 0, httpApp(), { certFile: file("missing.crt"), keyFile: file("server.key") })).rejects.toThrow(
      /^VIGIL_HTTP_TLS_CERT_FILE: cannot read /,
    );
  });
});
