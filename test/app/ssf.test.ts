import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { generateSigningJwk, recordSigner } from "../../src/adapters/signing.js";
import { inMemorySsfStore } from "../../src/app/in-memory-ssf-store.js";
import { SsfError, ssfTransmitter } from "../../src/app/ssf.js";
import type { PushResult, SsfLimits } from "../../src/app/ssf.js";
import { CAEP_EVENT_TYPES, toCaep } from "../../src/protocol/caep.js";
import type { Command } from "../../src/protocol/command.js";
import { DELIVERY_POLL, DELIVERY_PUSH, SET_TYPE, SSF_VERIFICATION_EVENT } from "../../src/protocol/ssf.js";

// The SSF transmitter's logic, with the in-memory store, a real signing key, a fake clock
// and a scripted push endpoint.

const LIMITS: SsfLimits = {
  maxStreamsPerReceiver: 2,
  maxQueuedPerStream: 100,
  retryBaseMs: 1000,
  retryMaxMs: 8000,
  minVerificationIntervalSeconds: 30,
  longPollMs: 5000,
  pushBatch: 10,
  pushUrlPrefixes: [],
};

function command(n: number, type: Command["type"] = "revoke", principalId = "alice@example.com"): Command {
  return {
    commandId: `cmd-${n}`,
    type,
    sessionId: `sess-${n}`,
    agentId: "agent-1",
    principalId,
    time: "2026-12-01T10:00:00Z",
    causedBy: [`evt-${n}`],
    riskScore: 0.9,
    reasons: [{ code: "sod.self_approval", message: "approving its own report" }],
    review: { required: false },
    caep: toCaep({ type, sessionId: `sess-${n}`, eventTimestampSeconds: 1_764_583_200, reason: "sod.self_approval", remaining: ["mail.read"] }),
  };
}

const published = (commands: Command[], publishedAtMs = Date.parse("2026-12-01T10:00:01Z")) => commands.map((command) => ({ command, publishedAtMs }));

async function setup(over: Partial<SsfLimits> = {}, principalIssuer?: string) {
  let t = Date.parse("2026-12-01T10:00:00Z");
  const signer = await recordSigner({ key: JSON.stringify(await generateSigningJwk()), keyFile: "unused" });
  const pushed: { url: string; token: string; auth: string | undefined }[] = [];
  const script: PushResult[] = [];
  const warnings: string[] = [];
  const counts: Record<string, number> = {};
  let id = 0;
  const store = inMemorySsfStore(() => t);
  const ssf = ssfTransmitter({
    store,
    sign: (claims) => signer.signJwt({ ...claims }, SET_TYPE),
    push: async (url, token, auth) => {
      pushed.push({ url, token, auth });
      return script.shift() ?? { kind: "delivered" };
    },
    issuer: "https://vigil.example.com/",
    principalIssuer,
    limits: { ...LIMITS, ...over },
    metrics: {
      set: (outcome, kind) => (counts[`set.${outcome}.${kind}`] = (counts[`set.${outcome}.${kind}`] ?? 0) + 1),
      delivery: (outcome, n = 1) => (counts[outcome] = (counts[outcome] ?? 0) + n),
    },
    now: () => t,
    newId: () => `id-${++id}`,
    sleep: async (ms) => {
      t += ms;
    },
    random: () => 0.5,
    warn: (msg) => warnings.push(msg),
  });
  const jwks = jose.createLocalJWKSet(signer.jwks as jose.JSONWebKeySet);
  const verify = (token: string, aud: string) => jose.jwtVerify(token, jwks, { issuer: "https://vigil.example.com", audience: aud, typ: SET_TYPE });
  return { ssf, store, pushed, script, warnings, counts, verify, advance: (ms: number) => (t += ms), now: () => t };
}

describe("SSF transmitter", () => {
  it("publishes its metadata: issuer, jwks_uri, both delivery methods, its endpoints", async () => {
    const { ssf } = await setup();
    expect(ssf.configuration()).toEqual({
      spec_version: "1_0",
      issuer: "https://vigil.example.com",
      jwks_uri: "https://vigil.example.com/.well-known/jwks.json",
      delivery_methods_supported: [DELIVERY_PUSH, DELIVERY_POLL],
      configuration_endpoint: "https://vigil.example.com/ssf/stream",
      status_endpoint: "https://vigil.example.com/ssf/status",
      verification_endpoint: "https://vigil.example.com/ssf/verify",
      authorization_schemes: [{ spec_urn: "urn:ietf:rfc:6750" }],
      default_subjects: "ALL",
    });
  });

  it("streams belong to the receiver that made them, up to the limit; push URLs outside the allowed prefixes are refused", async () => {
    const { ssf } = await setup({ pushUrlPrefixes: ["https://idp.example/"] });
    const poll = await ssf.createStream("idp", { delivery: { method: DELIVERY_POLL }, events_requested: [CAEP_EVENT_TYPES.sessionRevoked] });
    expect(poll).toMatchObject({
      iss: "https://vigil.example.com",
      aud: "idp",
      delivery: { method: DELIVERY_POLL, endpoint_url: `https://vigil.example.com/ssf/poll/${poll.stream_id}` },
      events_delivered: [CAEP_EVENT_TYPES.sessionRevoked],
    });
    await expect(ssf.createStream("idp", { delivery: { method: DELIVERY_PUSH, endpoint_url: "https://evil.example/x" } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("delivery.endpoint_url"),
    });
    const push = await ssf.createStream("idp", {
      delivery: { method: DELIVERY_PUSH, endpoint_url: "https://idp.example/events", authorization_header: "Bearer r" },
    });
    expect(push.delivery).toEqual({ method: DELIVERY_PUSH, endpoint_url: "https://idp.example/events" });
    expect(JSON.stringify(push)).not.toContain("Bearer r");
    await expect(ssf.createStream("idp", {})).rejects.toMatchObject({ status: 409 });
    await expect(ssf.readStreams("other", poll.stream_id)).rejects.toMatchObject({ status: 404 });
    expect(await ssf.readStreams("other", undefined)).toEqual([]);
    expect(((await ssf.readStreams("idp", undefined)) as { stream_id: string }[]).map((s) => s.stream_id)).toEqual([poll.stream_id, push.stream_id]);
    const patched = await ssf.updateStream("idp", { stream_id: poll.stream_id, description: "prod" }, "patch");
    expect(patched).toMatchObject({ description: "prod", events_requested: [CAEP_EVENT_TYPES.sessionRevoked] });
    const replaced = await ssf.updateStream("idp", { stream_id: poll.stream_id }, "put");
    expect(replaced.events_requested).toEqual([]);
    expect(replaced.description).toBeUndefined();
    await ssf.deleteStream("idp", poll.stream_id);
    await expect(ssf.status("idp", poll.stream_id)).rejects.toBeInstanceOf(SsfError);
  });

  it("each command is one signed SET per stream that asked for its event: CAEP event, RFC 9493 subjects, typ secevent+jwt; a re-read command is dropped", async () => {
    const { ssf, verify, counts } = await setup({}, "https://login.example.com");
    const all = await ssf.createStream("idp", {});
    const revokesOnly = await ssf.createStream("other", { events_requested: [CAEP_EVENT_TYPES.sessionRevoked, "urn:example:unknown"] });
    expect(revokesOnly.events_delivered).toEqual([CAEP_EVENT_TYPES.sessionRevoked]);
    await ssf.onCommands(published([command(1, "revoke"), command(2, "downgrade", "u-42"), command(3, "step_up")]));
    await ssf.onCommands(published([command(1, "revoke")]));
    expect(counts["set.queued.caep"]).toBe(4);
    expect(counts["set.duplicate.caep"]).toBe(2);

    const polled = await ssf.poll("idp", all.stream_id, { returnImmediately: true });
    const tokens = Object.entries(polled.sets);
    expect(tokens).toHaveLength(3);
    const decoded = await Promise.all(tokens.map(async ([jti, token]) => ({ jti, ...(await verify(token, "idp")) })));
    const [revoked, downgraded, stepped] = decoded;
    expect(revoked?.protectedHeader).toMatchObject({ typ: SET_TYPE, alg: "EdDSA" });
    expect(revoked?.payload).toMatchObject({
      iss: "https://vigil.example.com",
      aud: "idp",
      jti: revoked?.jti,
      txn: "cmd-1",
      sub_id: { format: "complex", session: { format: "opaque", id: "sess-1" }, user: { format: "email", email: "alice@example.com" } },
      events: { [CAEP_EVENT_TYPES.sessionRevoked]: { event_timestamp: 1_764_583_200, initiating_entity: "policy", reason_admin: { en: "sod.self_approval" } } },
    });
    expect(downgraded?.payload.sub_id).toEqual({
      format: "complex",
      session: { format: "opaque", id: "sess-2" },
      user: { format: "iss_sub", iss: "https://login.example.com", sub: "u-42" },
    });
    expect(downgraded?.payload.events).toEqual({
      [CAEP_EVENT_TYPES.tokenClaimsChange]: expect.objectContaining({ claims: { capabilities: ["mail.read"] } }),
    });
    expect(Object.keys(stepped?.payload.events as object)).toEqual([CAEP_EVENT_TYPES.assuranceLevelChange]);
    // Another receiver's audience does not verify, and the other stream has only the revocation.
    await expect(verify(tokens[0]?.[1] as string, "other")).rejects.toThrow();
    const other = await ssf.poll("other", revokesOnly.stream_id, { returnImmediately: true });
    expect(Object.keys(other.sets)).toHaveLength(1);
    await expect(ssf.poll("other", all.stream_id, {})).rejects.toMatchObject({ status: 404 });
  });

  it("a stream gets only the commands published after it was created", async () => {
    const { ssf } = await setup();
    await ssf.createStream("idp", {});
    await ssf.onCommands(published([command(1)], Date.parse("2026-12-01T09:59:59.999Z")));
    expect(await ssf.queued()).toBe(0);
    await ssf.onCommands(published([command(2)], Date.parse("2026-12-01T10:00:00Z")));
    expect(await ssf.queued()).toBe(1);
  });

  it("poll: oldest first up to maxEvents, moreAvailable, kept until acknowledged; a paused stream holds; a long poll waits", async () => {
    const { ssf, counts, now } = await setup();
    const s = await ssf.createStream("idp", { delivery: { method: DELIVERY_POLL } });
    await ssf.onCommands(published([1, 2, 3].map((n) => command(n))));
    const first = await ssf.poll("idp", s.stream_id, { maxEvents: 2, returnImmediately: true });
    expect(Object.keys(first.sets)).toHaveLength(2);
    expect(first.moreAvailable).toBe(true);
    const again = await ssf.poll("idp", s.stream_id, { maxEvents: 2, returnImmediately: true });
    expect(Object.keys(again.sets)).toEqual(Object.keys(first.sets));
    const next = await ssf.poll("idp", s.stream_id, { ack: Object.keys(first.sets), maxEvents: 2, returnImmediately: true });
    expect(Object.keys(next.sets)).toHaveLength(1);
    expect(next.moreAvailable).toBe(false);
    expect(counts.acknowledged).toBe(2);
    await ssf.setStatus("idp", { stream_id: s.stream_id, status: "paused" });
    expect(await ssf.poll("idp", s.stream_id, { returnImmediately: true })).toEqual({ sets: {}, moreAvailable: false });
    await ssf.setStatus("idp", { stream_id: s.stream_id, status: "enabled" });
    const last = await ssf.poll("idp", s.stream_id, { setErrs: { [Object.keys(next.sets)[0] as string]: { err: "invalid_key" } }, returnImmediately: true });
    expect(last.sets).toEqual({});
    expect(counts.poll_error).toBe(1);
    const before = now();
    expect(await ssf.poll("idp", s.stream_id, {})).toEqual({ sets: {}, moreAvailable: false });
    expect(now() - before).toBe(LIMITS.longPollMs);
  });

  it("push: oldest first; a failure backs off the whole stream and keeps the SET; a 400 drops it; the next success resets the backoff", async () => {
    const { ssf, store, pushed, script, advance, counts } = await setup();
    const s = await ssf.createStream("idp", {
      delivery: { method: DELIVERY_PUSH, endpoint_url: "https://idp.example/events", authorization_header: "Bearer r" },
    });
    await ssf.onCommands(published([1, 2, 3].map((n) => command(n))));
    script.push({ kind: "failed", detail: "HTTP 503" });
    await ssf.pushRound("me");
    expect(pushed).toHaveLength(1);
    expect(await store.pushState(s.stream_id)).toMatchObject({ failures: 1 });
    await ssf.pushRound("me");
    expect(pushed).toHaveLength(1); // backing off
    advance(999);
    await ssf.pushRound("me");
    expect(pushed).toHaveLength(1); // 1 s after one failure
    advance(1);
    script.push({ kind: "failed", detail: "refused" });
    await ssf.pushRound("me");
    expect(pushed).toHaveLength(2);
    expect((await store.pushState(s.stream_id)).failures).toBe(2);
    advance(1999);
    await ssf.pushRound("me");
    expect(pushed).toHaveLength(2);
    advance(1);
    script.push({ kind: "delivered" }, { kind: "rejected", err: "invalid_audience" });
    await ssf.pushRound("me");
    expect(pushed.map((p) => p.auth)).toEqual(Array(5).fill("Bearer r"));
    const sessions = pushed.map((p) => (jose.decodeJwt(p.token).sub_id as { session: { id: string } }).session.id);
    expect(sessions).toEqual(["sess-1", "sess-1", "sess-1", "sess-2", "sess-3"]);
    expect(await store.size(s.stream_id)).toBe(0);
    expect(await store.pushState(s.stream_id)).toEqual({ failures: 0, nextAtMs: 0 });
    expect(counts).toMatchObject({ pushed: 2, push_failed: 2, push_rejected: 1 });
  });

  it("verification: a SET about the stream echoing state, once per min_verification_interval; disabling drops what is queued", async () => {
    const { ssf, verify, advance } = await setup();
    const s = await ssf.createStream("idp", {});
    await ssf.verify("idp", { stream_id: s.stream_id, state: "abc" });
    await expect(ssf.verify("idp", { stream_id: s.stream_id })).rejects.toMatchObject({ status: 429, retryAfterSeconds: 30 });
    const sets = Object.values((await ssf.poll("idp", s.stream_id, { returnImmediately: true })).sets);
    expect(sets).toHaveLength(1);
    const { payload } = await verify(sets[0] as string, "idp");
    expect(payload).toMatchObject({ sub_id: { format: "opaque", id: s.stream_id }, events: { [SSF_VERIFICATION_EVENT]: { state: "abc" } } });
    await ssf.onCommands(published([command(9)]));
    expect(await ssf.setStatus("idp", { stream_id: s.stream_id, status: "disabled", reason: "maintenance" })).toEqual({
      stream_id: s.stream_id,
      status: "disabled",
      reason: "maintenance",
    });
    expect(await ssf.queued()).toBe(0);
    await ssf.onCommands(published([command(10)]));
    expect(await ssf.queued()).toBe(0);
    advance(30_000);
    await expect(ssf.verify("idp", { stream_id: s.stream_id })).rejects.toMatchObject({ status: 409 });
  });
});
