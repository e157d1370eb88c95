import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { join } from "node:path";
import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { generateSigningJwk } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { Command } from "../../src/protocol/command.js";
import { toCaep } from "../../src/protocol/caep.js";
import { DELIVERY_POLL, DELIVERY_PUSH, SET_TYPE, SSF_VERIFICATION_EVENT } from "../../src/protocol/ssf.js";
import { brokers } from "../support/stack-env.js";
import { freePort, isolatedEnv, jsonValues, metric, produce, readAll, untilProcessed, waitFor, withRegistry } from "../support/live.js";

// The SSF transmitter against the real broker and Redis, with a receiver of our own:
//   - metadata, JWKS and stream management over HTTP (401 without a receiver's token);
//   - a verification event pushed to the receiver;
//   - the receiver is down (503) while the story's commands become SETs; the processor is
//     stopped and started again; then the receiver is up and gets every command's SET once,
//     each verifying with jose against the published JWKS (a tampered one does not);
//   - the poll stream returns the same commands' SETs until acknowledged;
//   - a command forged on vigil.commands (unsigned) becomes no SET.

const RECEIVER = "https://idp.example:8443";
const TOKEN = "idp-receiver-token-0123456789";
const stories = ["expense-self-approval.jsonl", "exfiltration.jsonl"].flatMap((f) =>
  readFileSync(join(import.meta.dirname, "..", "..", "examples", "scenarios", f), "utf8")
    .split("\n")
    .filter(Boolean),
);

interface Received {
  readonly token: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
}

async function receiver(): Promise<{ server: Server; url: string; received: Received[]; setUp(up: boolean): void; attempts: () => number }> {
  const received: Received[] = [];
  let up = true;
  let attempts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      attempts++;
      if (!up) {
        res.writeHead(503).end();
        return;
      }
      received.push({ token: Buffer.concat(chunks).toString("utf8"), contentType: req.headers["content-type"], authorization: req.headers.authorization });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}/events`, received, setUp: (u) => (up = u), attempts: () => attempts };
}

describe("SSF transmitter (live)", () => {
  it(
    "push survives a receiver outage and a processor restart, poll keeps SETs until acknowledged, every token verifies against the JWKS",
    { timeout: 150_000 },
    async () => {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const env = isolatedEnv("ssf", {
        VIGIL_HTTP_PORT: String(port),
        VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()),
        VIGIL_SSF_ISSUER: issuer,
        VIGIL_SSF_RECEIVERS: `${RECEIVER}:${TOKEN}`,
        VIGIL_SSF_RETRY_BASE_MS: "100",
        VIGIL_SSF_RETRY_MAX_MS: "400",
        VIGIL_SSF_LONG_POLL_MS: "1000",
      });
      const config = loadConfig(env);
      const rx = await receiver();
      let running: Running = await startVigil(env);
      const call = async <T>(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: T }> => {
        const res = await fetch(`${issuer}${path}`, {
          method,
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
      };
      try {
        // Metadata and keys.
        const meta = await call<Record<string, unknown>>("GET", "/.well-known/ssf-configuration", undefined, null);
        expect(meta.status).toBe(200);
        expect(meta.body).toMatchObject({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, delivery_methods_supported: [DELIVERY_PUSH, DELIVERY_POLL] });
        const jwks = jose.createRemoteJWKSet(new URL(meta.body.jwks_uri as string));
        const verify = (token: string) => jose.jwtVerify(token, jwks, { issuer, audience: RECEIVER, typ: SET_TYPE });

        // Streams: one pushed to our receiver, one polled.
        expect((await call("POST", "/ssf/stream", {}, null)).status).toBe(401);
        expect((await call("POST", "/ssf/stream", {}, "not-a-receiver-token-000")).status).toBe(401);
        const bad = await call<{ error: string }>("POST", "/ssf/stream", { delivery: { method: DELIVERY_PUSH, endpoint_url: "ftp://x" } });
        expect(bad.status).toBe(400);
        expect(bad.body.error).toMatch(/^delivery\.endpoint_url/);
        const push = await call<{ stream_id: string; aud: string }>("POST", "/ssf/stream", {
          delivery: { method: DELIVERY_PUSH, endpoint_url: rx.url, authorization_header: "Bearer from-vigil" },
        });
        expect(push.status).toBe(201);
        expect(push.body.aud).toBe(RECEIVER);
        const poll = await call<{ stream_id: string; delivery: { endpoint_url: string } }>("POST", "/ssf/stream", { delivery: { method: DELIVERY_POLL } });
        expect(poll.body.delivery.endpoint_url).toBe(`${issuer}/ssf/poll/${poll.body.stream_id}`);
        expect((await call<{ status: string }>("GET", `/ssf/status?stream_id=${push.body.stream_id}`)).body.status).toBe("enabled");

        // Verification, pushed.
        expect((await call("POST", "/ssf/verify", { stream_id: push.body.stream_id, state: "hello" })).status).toBe(204);
        expect(await waitFor(() => rx.received.length === 1, 10_000)).toBe(true);
        const verification = await verify(rx.received[0]?.token as string);
        expect(verification.payload.events).toEqual({ [SSF_VERIFICATION_EVENT]: { state: "hello" } });
        expect(rx.received[0]).toMatchObject({ contentType: "application/secevent+jwt", authorization: "Bearer from-vigil" });

        // The receiver goes down; the story's commands become SETs that cannot be pushed.
        rx.setUp(false);
        await produce(
          config.topics.events,
          stories.map((value) => ({ key: (JSON.parse(value) as { sessionId: string }).sessionId, value })),
        );
        // A forged, unsigned command on the commands topic.
        const forged = JSON.stringify({
          commandId: "forged-1",
          type: "restore",
          sessionId: "exp-1",
          agentId: "assistant-7",
          principalId: "alice",
          time: "2026-12-01T10:00:00Z",
          causedBy: ["forged"],
          riskScore: 0,
          reasons: [{ code: "review.overturned", message: "restored" }],
          review: { required: false },
          caep: toCaep({ type: "restore", sessionId: "exp-1", eventTimestampSeconds: 1_764_583_200, reason: "restored", remaining: ["expense.approve"] }),
        } satisfies Command);
        const k = spawnSync("kcat", ["-P", "-b", brokers.join(","), "-t", config.topics.commands, "-k", "exp-1"], { input: `${forged}\n`, encoding: "utf8" });
        expect(k.status, k.stderr).toBe(0);
        await untilProcessed(config.kafka.groupId, config.topics.events);
        await untilProcessed(`${config.kafka.groupId}-ssf`, config.topics.commands);
        const commands = jsonValues<Command>((await readAll(config.topics.commands)).filter((m) => m.headers["vigil.command.id"] !== undefined));
        expect(commands.length).toBeGreaterThanOrEqual(3);
        const attemptsBefore = rx.attempts();
        expect(await waitFor(() => rx.attempts() > attemptsBefore, 10_000)).toBe(true);
        expect(rx.received).toHaveLength(1);
        expect(await metric(port, 'vigil_ssf_commands_refused_total{reason="unsigned"}')).toBe(1);

        // Restart the processor while the outbox holds them; then the receiver comes back.
        await running.stop();
        running = await startVigil(env);
        rx.setUp(true);
        expect(await waitFor(() => rx.received.length >= 1 + commands.length, 30_000)).toBe(true);
        await new Promise((r) => setTimeout(r, 500));
        const pushed = await Promise.all(rx.received.slice(1).map((r) => verify(r.token)));
        expect(pushed.map((p) => p.payload.txn).sort()).toEqual(commands.map((c) => c.commandId).sort());
        expect(new Set(pushed.map((p) => p.payload.jti)).size).toBe(commands.length);
        for (const p of pushed) {
          const c = commands.find((x) => x.commandId === p.payload.txn) as Command;
          expect(p.payload.events).toEqual({ [c.caep.eventType]: expect.objectContaining({ event_timestamp: c.caep.event_timestamp }) });
          expect(p.payload.sub_id).toMatchObject({ format: "complex", session: { format: "opaque", id: c.sessionId } });
        }

        // Tampered: a changed claim, or a signature by another key under the same kid, is refused.
        const [h, body, sig] = (rx.received[1]?.token as string).split(".");
        const claims = JSON.parse(Buffer.from(body as string, "base64url").toString("utf8")) as Record<string, unknown>;
        const altered = Buffer.from(JSON.stringify({ ...claims, aud: RECEIVER, txn: "someone-else" })).toString("base64url");
        await expect(verify(`${h}.${altered}.${sig}`)).rejects.toThrow(/signature/);
        // SETs are ES256 by default (VIGIL_SSF_SIGNING_ALG), with a key of their own next to the Ed25519 record key.
        const { alg, kid } = jose.decodeProtectedHeader(rx.received[1]?.token as string) as { alg: string; kid: string };
        expect(alg).toBe("ES256");
        expect(running.jwks.keys.map((k) => k.alg)).toEqual(["EdDSA", "ES256"]);
        const stranger = await jose.generateKeyPair(alg);
        const forgedToken = await new jose.SignJWT(claims).setProtectedHeader({ alg, typ: SET_TYPE, kid }).sign(stranger.privateKey);
        await expect(verify(forgedToken)).rejects.toThrow(/signature/);

        // Poll: the same commands, kept until acknowledged.
        const pollPath = `/ssf/poll/${poll.body.stream_id}`;
        const first = await call<{ sets: Record<string, string>; moreAvailable: boolean }>("POST", pollPath, { returnImmediately: true, maxEvents: 100 });
        expect(first.status).toBe(200);
        const polled = await Promise.all(Object.values(first.body.sets).map(verify));
        expect(polled.map((p) => p.payload.txn).sort()).toEqual(commands.map((c) => c.commandId).sort());
        const again = await call<{ sets: Record<string, string> }>("POST", pollPath, { returnImmediately: true });
        expect(Object.keys(again.body.sets).sort()).toEqual(Object.keys(first.body.sets).sort());
        const acked = await call<{ sets: Record<string, string>; moreAvailable: boolean }>("POST", pollPath, { ack: Object.keys(first.body.sets) });
        expect(acked.body).toEqual({ sets: {}, moreAvailable: false });

        // Counted: the forgery refused, the pushes and acknowledgements.
        const metrics = await (await fetch(`${issuer}/metrics`)).text();
        expect(metrics).toMatch(/vigil_ssf_outbox_sets 0/);
        expect(metrics).toMatch(new RegExp(`vigil_ssf_deliveries_total\\{outcome="acknowledged"\\} ${commands.length}`));
        expect(rx.received.some((r) => jose.decodeJwt(r.token).txn === "forged-1")).toBe(false);
      } finally {
        await running.stop();
        await new Promise<void>((resolve) => rx.server.close(() => resolve()));
      }
    },
  );

  it("Avro commands (through the schema registry) become the same SETs, polled", { timeout: 90_000 }, async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const env = withRegistry(
      isolatedEnv("ssf-avro", {
        VIGIL_HTTP_PORT: String(port),
        VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()),
        VIGIL_SSF_ISSUER: issuer,
        VIGIL_SSF_RECEIVERS: `${RECEIVER}:${TOKEN}`,
      }),
    );
    const config = loadConfig(env);
    expect(config.outputFormat).toBe("avro");
    const running = await startVigil(env);
    try {
      const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const created = (await (await fetch(`${issuer}/ssf/stream`, { method: "POST", headers: auth, body: "{}" })).json()) as { stream_id: string };
      await produce(
        config.topics.events,
        stories.map((value) => ({ key: (JSON.parse(value) as { sessionId: string }).sessionId, value })),
      );
      await untilProcessed(config.kafka.groupId, config.topics.events);
      await untilProcessed(`${config.kafka.groupId}-ssf`, config.topics.commands);
      const ids = (await readAll(config.topics.commands)).map((m) => String(m.headers["vigil.command.id"]));
      expect(ids.length).toBeGreaterThanOrEqual(3);
      const polled = (await (
        await fetch(`${issuer}/ssf/poll/${created.stream_id}`, { method: "POST", headers: auth, body: JSON.stringify({ returnImmediately: true }) })
      ).json()) as { sets: Record<string, string> };
      const jwks = jose.createLocalJWKSet(running.jwks as jose.JSONWebKeySet);
      const txns = await Promise.all(
        Object.values(polled.sets).map(async (t) => (await jose.jwtVerify(t, jwks, { issuer, audience: RECEIVER, typ: SET_TYPE })).payload.txn),
      );
      expect(txns.sort()).toEqual(ids.sort());
    } finally {
      await running.stop();
    }
  });
});
