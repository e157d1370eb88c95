import { connect } from "node:net";
import type { Server } from "node:http";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpError, bodyCap, door, httpApp, jsonBody, resource } from "../../src/adapters/http-app.js";
import { loadBearerTokens, requireAuth } from "../../src/adapters/http-auth.js";
import { TokenBuckets, rateLimit } from "../../src/adapters/http-rate-limit.js";
import { healthDoor, startHttp } from "../../src/adapters/http-server.js";
import { reviewDoor } from "../../src/adapters/review-http.js";
import { ssfDoor } from "../../src/adapters/ssf-http.js";
import type { ReviewService } from "../../src/app/review-service.js";
import { ReviewError } from "../../src/app/review-service.js";
import type { SsfTransmitter } from "../../src/app/ssf.js";
import { SsfError } from "../../src/app/ssf.js";

// The one HTTP layer (adapters/http-app.ts): every door mounted on one app as main.ts does,
// every error answered in one shape, and the shared middleware new doors are built from:
// requireAuth (401/403), bodyCap (413 naming the cap, 408 for a slow body) and rateLimit
// (429 with Retry-After).

const REVIEWER = "erin-review-token-0123456789";
const RECEIVER = "idp-token-0123456789";
const PEP = "pep-token-0123456789abcdef";
const AUDITOR = "auditor-token-0123456789";
let clock = 0;
const answered: string[] = [];
const unexpected: string[] = [];
let server: Server;
let base: string;
let port: number;

const failingRegistry = Object.assign(new Registry(), { metrics: () => Promise.reject(new Error("a collector threw")) });
const review = {
  list: async () => [],
  show: (id: string) => Promise.reject(new ReviewError(404, `no case ${id}`)),
  decide: () => Promise.reject(new ReviewError(409, "already decided")),
} as unknown as ReviewService;
const ssf = {
  configuration: () => ({ issuer: "https://vigil.example.com" }),
  readStreams: async () => [],
  verify: () => Promise.reject(new SsfError(429, "one verification per 60 s", 60)),
} as unknown as SsfTransmitter;

/** A door as the next ones will be: a caller's token, a body cap, a rate limit per token. */
function exampleDoor() {
  const app = door();
  const auth = requireAuth({
    tokens: loadBearerTokens({ inline: `pep-1:${PEP},auditor:${AUDITOR}`, inlineVariable: "X_TOKENS", fileVariable: "X_TOKENS_FILE", split: "first" }),
    realm: "vigil-example",
    who: "an enforcement point",
    unconfigured: "no enforcement points configured (X_TOKENS)",
    allow: (caller, c) => caller.name !== "auditor" || c.req.method === "GET",
  });
  app.use("/example/*", auth);
  const limit = rateLimit({ perSecond: 1, burst: 2, now: () => clock });
  resource(app, "/example/echo", {
    GET: (c) => c.json({ caller: c.get("caller") }),
    POST: [
      limit,
      bodyCap({ maxBytes: 1024, timeoutMs: 300 }),
      (c) => {
        answered.push(c.get("caller").name);
        return c.json({ got: jsonBody(c) });
      },
    ],
  });
  resource(app, "/example/boom", {
    GET: () => {
      throw new Error("a defect");
    },
  });
  resource(app, "/example/teapot", {
    GET: () => {
      throw new HttpError(409, "the pot is busy", { code: "pot_busy", headers: { "x-pot": "1" } });
    },
  });
  return app;
}

beforeAll(async () => {
  const app = httpApp({ unexpected: (e, method, path) => unexpected.push(`${method} ${path}: ${e.message}`) });
  app.route("/", healthDoor({ registry: failingRegistry, ready: async () => ({ ready: true, checks: {} }) }));
  app.route("/", reviewDoor(review, loadBearerTokens({ inline: `erin:${REVIEWER}`, inlineVariable: "A", fileVariable: "B", split: "first" })));
  app.route("/", ssfDoor(ssf, loadBearerTokens({ inline: `idp:${RECEIVER}`, inlineVariable: "A", fileVariable: "B", split: "last" })));
  app.route("/", exampleDoor());
  server = await startHttp("127.0.0.1", 0, app);
  port = (server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(method: string, path: string, o: { token?: string; body?: string } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    ...(o.body !== undefined ? { body: o.body } : {}),
  });
  const text = await res.text();
  const json = text !== "" && res.headers.get("content-type") === "application/json";
  return { status: res.status, headers: res.headers, text, body: json ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

/** Sends `request` as written on a fresh connection and reads until the server closes it (or `waitMs`). */
function raw(request: string, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (d) => (got += d.toString("utf8")));
    socket.on("end", done);
    socket.on("error", reject);
    socket.write(request);
  });
}

const shapeOf = (r: { headers: Headers; body?: Record<string, unknown> }) => ({
  type: r.headers.get("content-type"),
  cache: r.headers.get("cache-control"),
  keys: Object.keys(r.body ?? {}).sort(),
});

describe("one error shape", () => {
  it.each([
    ["GET", "/nowhere", 404, "not_found", {}],
    ["POST", "/healthz", 405, "method_not_allowed", {}],
    ["GET", "/metrics", 500, "internal", {}],
    ["DELETE", "/review", 405, "method_not_allowed", {}],
    ["GET", "/api/review/cases", 401, "unauthorized", {}],
    ["GET", "/api/review/cases?state=open", 400, "bad_request", { token: REVIEWER }],
    ["GET", "/api/review/cases/c-9", 404, "not_found", { token: REVIEWER }],
    ["POST", "/api/review/cases/c-9/confirm", 409, "conflict", { token: REVIEWER, body: "{}" }],
    ["GET", "/api/review/cases/c-9/confirm", 405, "method_not_allowed", { token: REVIEWER }],
    ["POST", "/api/review/cases/c-9/confirm", 413, "body_too_large", { token: REVIEWER, body: `{"note":"${"x".repeat(17_000)}"}` }],
    ["POST", "/.well-known/ssf-configuration", 405, "method_not_allowed", {}],
    ["GET", "/ssf/stream", 401, "unauthorized", {}],
    ["GET", "/ssf/nothing", 404, "not_found", { token: RECEIVER }],
    ["POST", "/ssf/stream", 400, "bad_request", { token: RECEIVER, body: "[1]" }],
    ["POST", "/ssf/verify", 429, "rate_limited", { token: RECEIVER, body: '{"stream_id":"s"}' }],
    ["GET", "/example/boom", 500, "internal", { token: PEP }],
    ["GET", "/example/teapot", 409, "pot_busy", { token: PEP }],
  ] as const)("%s %s → %i %s", async (method, path, status, code, o) => {
    const r = await call(method, path, o);
    expect(r.status).toBe(status);
    expect(r.body?.code).toBe(code);
    expect(typeof r.body?.error).toBe("string");
    expect(shapeOf(r)).toEqual({ type: "application/json", cache: "no-store", keys: ["code", "error"] });
  });

  it("5xx answers are told to the app's `unexpected` hook (main.ts logs them); 4xx are not", () => {
    expect(unexpected).toEqual(["GET /metrics: a collector threw", "GET /example/boom: a defect"]);
  });

  it("keeps each error's own headers: Allow, WWW-Authenticate, Retry-After", async () => {
    expect((await call("PUT", "/ssf/verify", { token: RECEIVER })).headers.get("allow")).toBe("POST");
    expect((await call("PATCH", "/ssf/stream", { token: RECEIVER, body: "{" })).body).toEqual({ error: "body: not JSON", code: "bad_request" });
    expect((await call("POST", "/readyz")).headers.get("allow")).toBe("GET");
    expect((await call("GET", "/api/review/cases")).headers.get("www-authenticate")).toBe('Bearer realm="vigil-review"');
    expect((await call("POST", "/ssf/verify", { token: RECEIVER, body: '{"stream_id":"s"}' })).headers.get("retry-after")).toBe("60");
    expect((await call("GET", "/example/teapot", { token: PEP })).headers.get("x-pot")).toBe("1");
  });

  it("a request the server cannot parse into a URL is a 400 in the same shape", async () => {
    const answer = await raw("GET /a\\b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/content-type: application\/json/i);
    expect(answer).toContain('"code":"bad_request"');
  });

  it("successes keep their content types, and HEAD answers like GET without a body", async () => {
    expect((await call("GET", "/healthz")).text).toBe('{"status":"ok"}');
    const page = await call("HEAD", "/review");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.text).toBe("");
    expect((await call("GET", "/review.js")).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  });
});

describe("requireAuth", () => {
  it("401 without a known token, with the realm; 403 for a known caller the door refuses; the caller named otherwise", async () => {
    for (const token of [undefined, "not-a-token-at-all-0000", REVIEWER]) {
      const r = await call("GET", "/example/echo", token ? { token } : {});
      expect(r.status).toBe(401);
      expect(r.body?.error).toBe("an enforcement point's bearer token is required");
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="vigil-example"');
    }
    expect((await call("GET", "/example/echo", { token: PEP })).body).toEqual({ caller: { name: "pep-1", via: "token" } });
    expect((await call("GET", "/example/echo", { token: AUDITOR })).status).toBe(200);
    const refused = await call("POST", "/example/echo", { token: AUDITOR, body: "{}" });
    expect(refused).toMatchObject({ status: 403, body: { code: "forbidden", error: "auditor may not POST /example/echo" } });
    expect(answered).not.toContain("auditor");
  });

  it("names the variables when no caller is configured at all", async () => {
    const app = httpApp().route(
      "/",
      door().use("/x", requireAuth({ tokens: new Map(), realm: "r", who: "a caller", unconfigured: "no callers configured (X_TOKENS)" })),
    );
    const r = await app.request("/x");
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: "no callers configured (X_TOKENS)", code: "unauthorized" });
  });
});

describe("bodyCap", () => {
  it("413 naming the cap, whether the length is declared or the body only streams past it", async () => {
    const declared = await call("POST", "/example/echo", { token: PEP, body: JSON.stringify({ x: "y".repeat(2000) }) });
    expect(declared).toMatchObject({ status: 413, body: { error: "request body over the cap of 1024 bytes", code: "body_too_large" } });
    clock += 10_000;
    const chunk = `${"y".repeat(600)}`;
    const streamed = await raw(
      `POST /example/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PEP}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(streamed).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed).toContain('"error":"request body over the cap of 1024 bytes"');
    expect(streamed).toMatch(/connection: close/i);
  });

  it("408 when the body does not arrive in time; the connection is closed", async () => {
    clock += 10_000;
    const started = Date.now();
    const answer = await raw(`POST /example/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PEP}\r\nContent-Length: 100\r\n\r\n{"a":`);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('{"error":"request body not received within 300 ms","code":"request_timeout"}');
    expect(answer).toMatch(/connection: close/i);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a body within the cap reaches the handler, parsed", async () => {
    clock += 10_000;
    expect(await call("POST", "/example/echo", { token: PEP, body: '{"a":1}' })).toMatchObject({ status: 200, body: { got: { a: 1 } } });
  });
});

describe("rateLimit", () => {
  it("per token: a burst, then 429 with Retry-After until the bucket refills; another token is not held back", async () => {
    clock += 10_000;
    const post = (token: string) => call("POST", "/example/echo", { token, body: "{}" });
    expect((await post(PEP)).status).toBe(200);
    expect((await post(PEP)).status).toBe(200);
    const limited = await post(PEP);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.body).toEqual({ error: "rate limited: 1 requests per second (bursts of 2); retry in 1 s", code: "rate_limited" });
    clock += 1000;
    expect((await post(PEP)).status).toBe(200);
    expect((await post(PEP)).status).toBe(429);
  });

  it("token buckets: refill at the rate, the wait until the next token, memory capped at maxKeys (least recently used dropped)", () => {
    const b = new TokenBuckets(2, 3, 2);
    expect([b.take("a", 0), b.take("a", 0), b.take("a", 0)]).toEqual([0, 0, 0]);
    expect(b.take("a", 0)).toBeCloseTo(0.5);
    expect(b.take("a", 250)).toBeCloseTo(0.25);
    expect(b.take("a", 500)).toBe(0);
    expect(b.take("a", 10_000)).toBe(0);
    b.take("b", 10_000);
    b.take("a", 10_000);
    b.take("c", 10_000);
    expect(b.size).toBe(2);
    // b was the least recently used: dropped, so it starts again full; a kept its count.
    expect([b.take("a", 10_000), b.take("a", 10_000)]).toEqual([0, 0.5]);
    expect(() => new TokenBuckets(0, 1, 1)).toThrow(RangeError);
  });
});
