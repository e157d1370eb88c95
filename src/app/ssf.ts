import { createHash } from "node:crypto";
import type { Command } from "../protocol/command.js";
import type { PollRequest, SetClaims, StreamRecord, StreamRequest } from "../protocol/ssf.js";
import { DELIVERY_POLL, DELIVERY_PUSH, EVENTS_SUPPORTED, SSF_SPEC_VERSION, commandSetClaims, eventsDelivered, verificationSetClaims } from "../protocol/ssf.js";

// The SSF transmitter (docs/ssf.md). Receivers, each a configured name and bearer token,
// manage their own streams; every command read from vigil.commands becomes one signed SET
// per stream that asked for its event type, written to that stream's outbox (durable: the
// store is Redis, and the commands consumer commits only after the outbox write, so a crash
// re-reads the command and the SET's fixed jti drops the repeat). Push streams are drained
// oldest first by `pushRound` with backoff on failure; poll streams keep each SET until the
// receiver acknowledges it. Everything kept is capped: streams per receiver, SETs per outbox.

const SSF_ERROR_CODES = { 400: "bad_request", 404: "not_found", 409: "conflict", 429: "rate_limited" } as const;

/** A stream management request refused: 400 (a bad field), 404 (no such stream), 409 (over a limit, or disabled), 429 (verified too often). */
export class SsfError extends Error {
  readonly code: (typeof SSF_ERROR_CODES)[keyof typeof SSF_ERROR_CODES];
  constructor(
    readonly status: 400 | 404 | 409 | 429,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.code = SSF_ERROR_CODES[status];
  }
}

export interface QueuedSet {
  readonly jti: string;
  readonly token: string;
}

export interface PushState {
  /** Consecutive failed pushes; 0 after a success. */
  readonly failures: number;
  /** No push before this time (milliseconds since the epoch). */
  readonly nextAtMs: number;
}

/** Where streams and their outboxes live (Redis in production; contract: test/contract/ssf-store.contract.ts). */
export interface SsfStore {
  putStream(s: StreamRecord): Promise<void>;
  getStream(streamId: string): Promise<StreamRecord | undefined>;
  listStreams(): Promise<StreamRecord[]>;
  /** Removes the stream, its outbox and its delivery state. */
  deleteStream(streamId: string): Promise<void>;
  /** Adds a SET at the outbox's end unless its jti was queued before (`duplicate`) or the outbox holds `maxQueued` (`full`). */
  enqueue(streamId: string, set: QueuedSet, atMs: number, maxQueued: number): Promise<"queued" | "duplicate" | "full">;
  /** The oldest `limit` SETs, oldest first. */
  peek(streamId: string, limit: number): Promise<QueuedSet[]>;
  /** Removes these SETs; returns how many were there. */
  remove(streamId: string, jtis: readonly string[]): Promise<number>;
  /** Empties the outbox (a disabled stream holds nothing). */
  clear(streamId: string): Promise<void>;
  size(streamId: string): Promise<number>;
  pushState(streamId: string): Promise<PushState>;
  setPushState(streamId: string, s: PushState): Promise<void>;
  /** Takes `name` for `ttlMs` unless someone else holds it. */
  lock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  unlock(name: string, owner: string): Promise<void>;
}

export type PushResult =
  | { readonly kind: "delivered" }
  /** The receiver refused the SET itself (RFC 8935 section 2.3, HTTP 400): retrying cannot help. */
  | { readonly kind: "rejected"; readonly err: string; readonly description?: string }
  | { readonly kind: "failed"; readonly detail: string };

export interface SsfMetrics {
  /** A SET written to an outbox (`queued`), its repeat dropped (`duplicate`), or dropped for a full outbox (`dropped`). */
  set(outcome: "queued" | "duplicate" | "dropped", kind: "caep" | "verification"): void;
  /** A delivery outcome: `pushed`, `push_failed` (retried later), `push_rejected`, `polled`, `acknowledged`, `poll_error` (a receiver's setErrs). */
  delivery(outcome: "pushed" | "push_failed" | "push_rejected" | "polled" | "acknowledged" | "poll_error", n?: number): void;
}

export interface SsfLimits {
  readonly maxStreamsPerReceiver: number;
  readonly maxQueuedPerStream: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly minVerificationIntervalSeconds: number;
  readonly longPollMs: number;
  readonly pushBatch: number;
  /** Push endpoints a receiver may name must start with one of these (none: any http(s) URL). */
  readonly pushUrlPrefixes: readonly string[];
}

export interface SsfDeps {
  readonly store: SsfStore;
  /** Signs a SET payload (header typ secevent+jwt, the processor's key and kid). */
  sign(claims: SetClaims): Promise<string>;
  /** POSTs one SET to a push endpoint (RFC 8935). */
  push(endpointUrl: string, token: string, authorizationHeader: string | undefined): Promise<PushResult>;
  /** The transmitter's issuer: an origin such as https://vigil.example.com (SETs' `iss`, and the endpoints' base). */
  readonly issuer: string;
  /** The issuer principals' ids belong to, for `iss_sub` subjects. */
  readonly principalIssuer?: string | undefined;
  readonly limits: SsfLimits;
  readonly metrics: SsfMetrics;
  now(): number;
  newId(): string;
  sleep(ms: number): Promise<void>;
  random(): number;
  warn(msg: string, fields: Record<string, unknown>): void;
}

/** The stream configuration a receiver sees (SSF 1.0 section 8.1.1). */
export interface StreamConfiguration {
  readonly stream_id: string;
  readonly iss: string;
  readonly aud: string;
  readonly delivery: { readonly method: string; readonly endpoint_url: string };
  readonly events_supported: readonly string[];
  readonly events_requested: readonly string[];
  readonly events_delivered: readonly string[];
  readonly min_verification_interval: number;
  readonly description?: string;
}

/** A command as read from vigil.commands, with when it was published (the record's timestamp). */
export interface PublishedCommand {
  readonly command: Command;
  readonly publishedAtMs: number;
}

export interface PollResponse {
  readonly sets: Record<string, string>;
  readonly moreAvailable: boolean;
}

const DEFAULT_POLL_MAX = 100;
const POLL_STEP_MS = 200;
const PUSH_LOCK_MS = 60_000;

/** A SET's jti: the same for the same command on the same stream, so a re-read command is a duplicate. */
const setJti = (streamId: string, source: string): string => createHash("sha256").update(`${streamId}\u0000${source}`, "utf8").digest("base64url").slice(0, 32);

export type SsfTransmitter = ReturnType<typeof ssfTransmitter>;

export function ssfTransmitter(d: SsfDeps) {
  const base = d.issuer.replace(/\/+$/, "");
  const endpoints = {
    jwks: `${base}/.well-known/jwks.json`,
    configuration: `${base}/ssf/stream`,
    status: `${base}/ssf/status`,
    verification: `${base}/ssf/verify`,
    poll: (streamId: string) => `${base}/ssf/poll/${encodeURIComponent(streamId)}`,
  };
  const iat = () => Math.floor(d.now() / 1000);

  const view = (s: StreamRecord): StreamConfiguration => ({
    stream_id: s.streamId,
    iss: base,
    aud: s.receiver,
    delivery: { method: s.delivery.method, endpoint_url: s.delivery.method === DELIVERY_PUSH ? s.delivery.endpointUrl : endpoints.poll(s.streamId) },
    events_supported: EVENTS_SUPPORTED,
    events_requested: s.eventsRequested,
    events_delivered: eventsDelivered(s.eventsRequested),
    min_verification_interval: d.limits.minVerificationIntervalSeconds,
    ...(s.description !== undefined ? { description: s.description } : {}),
  });

  /** The receiver's own stream, or 404 (another receiver's streams do not exist for it). */
  const owned = async (receiver: string, streamId: string | undefined): Promise<StreamRecord> => {
    if (streamId === undefined || streamId === "") throw new SsfError(400, "stream_id: required");
    const s = await d.store.getStream(streamId);
    if (s === undefined || s.receiver !== receiver) throw new SsfError(404, `stream_id: no stream ${JSON.stringify(streamId)}`);
    return s;
  };

  const delivery = (r: StreamRequest["delivery"]): StreamRecord["delivery"] => {
    if (r === undefined || r.method === DELIVERY_POLL) return { method: DELIVERY_POLL };
    const allowed = d.limits.pushUrlPrefixes;
    if (allowed.length > 0 && !allowed.some((p) => r.endpoint_url.startsWith(p)))
      throw new SsfError(400, "delivery.endpoint_url: not under a push URL this transmitter allows (VIGIL_SSF_PUSH_URL_PREFIXES)");
    return {
      method: DELIVERY_PUSH,
      endpointUrl: r.endpoint_url,
      ...(r.authorization_header !== undefined ? { authorizationHeader: r.authorization_header } : {}),
    };
  };

  const enqueue = async (s: StreamRecord, claims: SetClaims, kind: "caep" | "verification") => {
    const outcome = await d.store.enqueue(s.streamId, { jti: claims.jti, token: await d.sign(claims) }, d.now(), d.limits.maxQueuedPerStream);
    if (outcome === "full") {
      d.metrics.set("dropped", kind);
      d.warn("SSF outbox full: SET dropped", { streamId: s.streamId, receiver: s.receiver, max: d.limits.maxQueuedPerStream, jti: claims.jti });
    } else d.metrics.set(outcome, kind);
    return outcome;
  };

  const backoff = (failures: number) => {
    const ms = Math.min(d.limits.retryMaxMs, d.limits.retryBaseMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(ms * (0.8 + 0.4 * d.random()));
  };

  /** Delivers one push stream's due SETs, oldest first, stopping at the first failure. */
  const pushStream = async (s: StreamRecord & { delivery: { method: typeof DELIVERY_PUSH } }, owner: string, keepGoing: () => boolean) => {
    const state = await d.store.pushState(s.streamId);
    if (state.nextAtMs > d.now()) return;
    if (!(await d.store.lock(`push:${s.streamId}`, owner, PUSH_LOCK_MS))) return;
    try {
      let failures = state.failures;
      // Within the lock's time: past it another processor may take the stream.
      const until = d.now() + PUSH_LOCK_MS / 2;
      while (keepGoing() && d.now() < until) {
        const sets = await d.store.peek(s.streamId, d.limits.pushBatch);
        if (sets.length === 0) break;
        for (const set of sets) {
          const r = await d.push(s.delivery.endpointUrl, set.token, s.delivery.authorizationHeader);
          if (r.kind === "failed") {
            failures++;
            d.metrics.delivery("push_failed");
            const waitMs = backoff(failures);
            await d.store.setPushState(s.streamId, { failures, nextAtMs: d.now() + waitMs });
            d.warn("SSF push failed; retrying later", {
              streamId: s.streamId,
              endpoint: s.delivery.endpointUrl,
              detail: r.detail,
              failures,
              retryInMs: waitMs,
            });
            return;
          }
          await d.store.remove(s.streamId, [set.jti]);
          if (r.kind === "rejected") {
            d.metrics.delivery("push_rejected");
            d.warn("SSF receiver rejected a SET; not retried", { streamId: s.streamId, jti: set.jti, err: r.err, description: r.description });
          } else d.metrics.delivery("pushed");
          if (failures > 0) {
            failures = 0;
            await d.store.setPushState(s.streamId, { failures: 0, nextAtMs: 0 });
          }
        }
      }
    } finally {
      await d.store.unlock(`push:${s.streamId}`, owner);
    }
  };

  return {
    /** GET /.well-known/ssf-configuration (SSF 1.0 section 7.1). */
    configuration() {
      return {
        spec_version: SSF_SPEC_VERSION,
        issuer: base,
        jwks_uri: endpoints.jwks,
        delivery_methods_supported: [DELIVERY_PUSH, DELIVERY_POLL],
        configuration_endpoint: endpoints.configuration,
        status_endpoint: endpoints.status,
        verification_endpoint: endpoints.verification,
        authorization_schemes: [{ spec_urn: "urn:ietf:rfc:6750" }],
        default_subjects: "ALL",
      };
    },

    async createStream(receiver: string, r: StreamRequest): Promise<StreamConfiguration> {
      const mine = (await d.store.listStreams()).filter((s) => s.receiver === receiver);
      if (mine.length >= d.limits.maxStreamsPerReceiver)
        throw new SsfError(409, `this receiver already has ${mine.length} streams, the most allowed (VIGIL_SSF_MAX_STREAMS_PER_RECEIVER)`);
      const s: StreamRecord = {
        streamId: d.newId(),
        receiver,
        delivery: delivery(r.delivery),
        eventsRequested: r.events_requested ?? [],
        ...(r.description !== undefined ? { description: r.description } : {}),
        status: "enabled",
        createdAt: new Date(d.now()).toISOString(),
      };
      await d.store.putStream(s);
      return view(s);
    },

    async readStreams(receiver: string, streamId: string | undefined): Promise<StreamConfiguration | StreamConfiguration[]> {
      if (streamId !== undefined) return view(await owned(receiver, streamId));
      return (await d.store.listStreams())
        .filter((s) => s.receiver === receiver)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .map(view);
    },

    /** PATCH (merge the fields given) or PUT (replace: fields not given return to their defaults). */
    async updateStream(receiver: string, r: StreamRequest, mode: "patch" | "put"): Promise<StreamConfiguration> {
      const s = await owned(receiver, r.stream_id);
      // PUT starts from the stream without its receiver-supplied fields; PATCH keeps those not given.
      const { description: _description, ...kept } = s;
      const from: StreamRecord = mode === "put" ? { ...kept, delivery: delivery(undefined), eventsRequested: [] } : s;
      const next: StreamRecord = {
        ...from,
        ...(r.delivery !== undefined ? { delivery: delivery(r.delivery) } : {}),
        ...(r.events_requested !== undefined ? { eventsRequested: r.events_requested } : {}),
        ...(r.description !== undefined ? { description: r.description } : {}),
      };
      await d.store.putStream(next);
      if (next.delivery.method !== s.delivery.method) await d.store.setPushState(s.streamId, { failures: 0, nextAtMs: 0 });
      return view(next);
    },

    async deleteStream(receiver: string, streamId: string | undefined): Promise<void> {
      const s = await owned(receiver, streamId);
      await d.store.deleteStream(s.streamId);
    },

    async status(receiver: string, streamId: string | undefined) {
      const s = await owned(receiver, streamId);
      return { stream_id: s.streamId, status: s.status, ...(s.reason !== undefined ? { reason: s.reason } : {}) };
    },

    /** The receiver sets its stream's status: paused holds SETs, disabled drops them (and empties the outbox). */
    async setStatus(receiver: string, r: { stream_id: string; status: StreamRecord["status"]; reason?: string | undefined }) {
      const s = await owned(receiver, r.stream_id);
      const { reason: _old, ...rest } = s;
      const next: StreamRecord = { ...rest, status: r.status, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
      await d.store.putStream(next);
      if (r.status === "disabled") await d.store.clear(s.streamId);
      return { stream_id: s.streamId, status: next.status, ...(next.reason !== undefined ? { reason: next.reason } : {}) };
    },

    /** Queues a verification event on the stream (section 8.1.4.2), at most once per min_verification_interval. */
    async verify(receiver: string, r: { stream_id: string; state?: string | undefined }): Promise<void> {
      const s = await owned(receiver, r.stream_id);
      if (s.status === "disabled") throw new SsfError(409, "the stream is disabled: enable it first");
      const interval = d.limits.minVerificationIntervalSeconds;
      if (interval > 0 && !(await d.store.lock(`verify:${s.streamId}`, "verify", interval * 1000)))
        throw new SsfError(429, `at most one verification every ${interval} s (min_verification_interval)`, interval);
      const claims = verificationSetClaims({ issuer: base, audience: s.receiver, jti: d.newId(), iatSeconds: iat(), streamId: s.streamId, state: r.state });
      await enqueue(s, claims, "verification");
    },

    /** RFC 8936: acknowledges what the receiver names, then returns the oldest SETs (waiting up to the long-poll time unless returnImmediately). */
    async poll(receiver: string, streamId: string, r: PollRequest): Promise<PollResponse> {
      const s = await owned(receiver, streamId);
      if (s.delivery.method !== DELIVERY_POLL) throw new SsfError(400, "this stream is delivered by push, not poll");
      if (r.ack && r.ack.length > 0) d.metrics.delivery("acknowledged", await d.store.remove(s.streamId, r.ack));
      const errs = Object.entries(r.setErrs ?? {});
      if (errs.length > 0) {
        d.metrics.delivery(
          "poll_error",
          await d.store.remove(
            s.streamId,
            errs.map(([jti]) => jti),
          ),
        );
        for (const [jti, e] of errs.slice(0, 10))
          d.warn("SSF receiver reported a SET error", { streamId: s.streamId, jti, err: e.err, description: e.description });
      }
      const max = r.maxEvents ?? DEFAULT_POLL_MAX;
      if (max === 0 || s.status !== "enabled") return { sets: {}, moreAvailable: false };
      const deadline = d.now() + (r.returnImmediately === true ? 0 : d.limits.longPollMs);
      for (;;) {
        const found = await d.store.peek(s.streamId, max + 1);
        if (found.length > 0 || d.now() >= deadline) {
          const sets = Object.fromEntries(found.slice(0, max).map((q) => [q.jti, q.token]));
          d.metrics.delivery("polled", Math.min(found.length, max));
          return { sets, moreAvailable: found.length > max };
        }
        await d.sleep(Math.min(POLL_STEP_MS, Math.max(1, deadline - d.now())));
      }
    },

    /** Turns verified commands into SETs on every stream that asked for their event type and existed when the command was published. */
    async onCommands(published: readonly PublishedCommand[]): Promise<void> {
      if (published.length === 0) return;
      const streams = (await d.store.listStreams()).filter((s) => s.status !== "disabled");
      for (const s of streams) {
        const wanted = new Set(eventsDelivered(s.eventsRequested));
        const since = Date.parse(s.createdAt);
        for (const { command: c, publishedAtMs } of published) {
          if (!wanted.has(c.caep.eventType) || publishedAtMs < since) continue;
          const claims = commandSetClaims(c, {
            issuer: base,
            audience: s.receiver,
            jti: setJti(s.streamId, c.commandId),
            iatSeconds: iat(),
            principalIssuer: d.principalIssuer,
          });
          await enqueue(s, claims, "caep");
        }
      }
    },

    /** One round of push delivery over every enabled push stream (`owner` names this process for the per-stream lock). */
    async pushRound(owner: string, keepGoing: () => boolean = () => true): Promise<void> {
      // Streams side by side: a slow receiver does not hold up the others.
      const streams = (await d.store.listStreams()).filter((s) => s.status === "enabled" && s.delivery.method === DELIVERY_PUSH);
      await Promise.all(
        streams.map(async (s) => {
          try {
            await pushStream(s as StreamRecord & { delivery: { method: typeof DELIVERY_PUSH } }, owner, keepGoing);
          } catch (e) {
            d.warn("SSF push round failed for a stream", { streamId: s.streamId, error: e instanceof Error ? e.message : String(e) });
          }
        }),
      );
    },

    /** SETs waiting in all outboxes (a scrape-time gauge). */
    async queued(): Promise<number> {
      let n = 0;
      for (const s of await d.store.listStreams()) n += await d.store.size(s.streamId);
      return n;
    },
  };
}
