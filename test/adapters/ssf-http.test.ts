import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpApp } from "../../src/adapters/http-app.js";
import { startHttp } from "../../src/adapters/http-server.js";
import { generateSigningJwk, recordSigner } from "../../src/adapters/signing.js";
import { loadReceivers, ssfDoor } from "../../src/adapters/ssf-http.js";
import { inMemorySsfStore } from "../../src/app/in-memory-ssf-store.js";
import { ssfTransmitter } from "../../src/app/ssf.js";
import { DELIVERY_POLL, SET_TYPE } from "../../src/protocol/ssf.js";

// The SSF endpoints over real HTTP (the transmitter in memory): authentication, one
// receiver's streams invisible to another, errors that name the field, methods, limits.

const IDP = "idp-token-0123456789";
const OTHER = "other-token-0123456789";
let server: Server;
let base: string;

beforeAll(async () => {
  const signer = await recordSigner({ key: JSON.stringify(await generateSigningJwk()), keyFile: "unused" });
  const ssf = ssfTransmitter({
    store: inMemorySsfStore(() => Date.now()),
    sign: (c) => signer.signJwt({ ...c }, SET_TYPE),
    push: async () => ({ kind: "delivered" }),
    issuer: "https://vigil.example.com",
    limits: {
      maxStreamsPerReceiver: 4,
      maxQueuedPerStream: 10,
      retryBaseMs: 10,
      retryMaxMs: 10,
      minVerificationIntervalSeconds: 60,
      longPollMs: 0,
      pushBatch: 5,
      pushUrlPrefixes: [],
    },
    metrics: { set: () => {}, delivery: () => {} },
    now: () => Date.now(),
    newId: () => crypto.randomUUID(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    random: Math.random,
    warn: () => {},
  });
  const receivers = loadReceivers({ inline: `https://idp.example:${IDP}, other:${OTHER}` });
  server = await startHttp("127.0.0.1", 0, httpApp().route("/", ssfDoor(ssf, receivers)));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(method: string, path: string, o: { token?: string | null; body?: string | object } = {}) {
  const token = o.token === undefined ? IDP : o.token;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(o.body !== undefined ? { body: typeof o.body === "string" ? o.body : JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe("SSF HTTP endpoints", () => {
  it("metadata is public; everything else needs a receiver's token", async () => {
    const meta = await call("GET", "/.well-known/ssf-configuration", { token: null });
    expect(meta.status).toBe(200);
    expect(meta.body?.issuer).toBe("https://vigil.example.com");
    expect((await call("POST", "/.well-known/ssf-configuration", { token: null })).status).toBe(405);
    const anon = await call("GET", "/ssf/stream", { token: null });
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/Bearer/);
  });

  it("a receiver named by a URL is the stream's aud; another receiver cannot see or change it", async () => {
    const created = await call("POST", "/ssf/stream", { body: { delivery: { method: DELIVERY_POLL }, description: "prod" } });
    expect(created.status).toBe(201);
    expect(created.body?.aud).toBe("https://idp.example");
    const id = created.body?.stream_id as string;
    expect((await call("GET", `/ssf/stream?stream_id=${id}`, { token: OTHER })).status).toBe(404);
    expect((await call("DELETE", `/ssf/stream?stream_id=${id}`, { token: OTHER })).status).toBe(404);
    expect((await call("POST", `/ssf/poll/${id}`, { token: OTHER, body: {} })).status).toBe(404);
    expect((await call("GET", "/ssf/stream", { token: OTHER })).body).toEqual([]);
    const patched = await call("PATCH", "/ssf/stream", {
      body: { stream_id: id, events_requested: ["https://schemas.openid.net/secevent/caep/event-type/session-revoked"] },
    });
    expect(patched.body?.events_delivered).toEqual(["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]);
    expect((await call("POST", "/ssf/status", { body: { stream_id: id, status: "paused" } })).body).toEqual({ stream_id: id, status: "paused" });
    expect((await call("GET", `/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: "paused" });
    expect((await call("DELETE", `/ssf/stream?stream_id=${id}`)).status).toBe(204);
    expect((await call("GET", `/ssf/status?stream_id=${id}`)).status).toBe(404);
  });

  it("bad input: 400 naming the field, 413 past the size limit, 405 with Allow, 429 with Retry-After", async () => {
    const bad = await call("POST", "/ssf/stream", { body: { delivery: { method: "urn:ietf:rfc:8935", endpoint_url: "javascript:alert(1)" } } });
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^delivery\.endpoint_url: an http\(s\) URL/) } });
    expect((await call("POST", "/ssf/status", { body: { stream_id: "x", status: "sleeping" } })).body?.error).toMatch(/^status:/);
    expect((await call("POST", "/ssf/stream", { body: "[1]" })).body?.error).toBe("body: expected a JSON object");
    expect((await call("POST", "/ssf/stream", { body: "{" })).body?.error).toBe("body: not JSON");
    expect((await call("POST", "/ssf/stream", { body: JSON.stringify({ description: "x".repeat(70_000) }) })).status).toBe(413);
    expect((await call("GET", "/ssf/stream?stream_id=")).status).toBe(400);
    const wrong = await call("GET", "/ssf/verify");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    const s = await call("POST", "/ssf/stream", { body: {} });
    expect((await call("POST", "/ssf/verify", { body: { stream_id: s.body?.stream_id } })).status).toBe(204);
    const again = await call("POST", "/ssf/verify", { body: { stream_id: s.body?.stream_id } });
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toBe("60");
    const polled = await call("POST", `/ssf/poll/${s.body?.stream_id as string}`, { body: { maxEvents: 5 } });
    expect(Object.keys(polled.body?.sets as object)).toHaveLength(1);
    expect((await call("POST", `/ssf/poll/${s.body?.stream_id as string}`, { body: { maxEvents: -1 } })).body?.error).toMatch(/^maxEvents:/);
    expect((await call("GET", "/ssf/nothing")).status).toBe(404);
    expect(await call("POST", "/ssf/poll/%E0%A4%A", { body: {} })).toMatchObject({
      status: 400,
      body: { error: "stream_id: malformed percent-encoding in the path" },
    });
  });
});
