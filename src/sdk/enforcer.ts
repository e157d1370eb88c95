import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import kafkajs from "kafkajs";
import type { Consumer, Kafka, KafkaMessage, Producer } from "kafkajs";
import { Counter } from "prom-client";
import type { Registry } from "prom-client";
import type { Command, Enforcement, Verdict } from "../protocol/index.js";
import { Command as CommandSchema, SessionStatus, TOPICS, anyGlob, check, initialEnforcement, isRestricted } from "../protocol/index.js";
import { commandFromAvro, readRecordValue, statusFromAvro } from "../codec/avro-codec.js";
import type { RefusalReason } from "../protocol/signature.js";
import { REFUSAL_REASONS } from "../protocol/signature.js";
import type { TrustedKeys, Verified } from "../codec/record-jws.js";
import { recordVerifier } from "../codec/record-jws.js";

// Enforcement SDK (`vigil/enforcer`): an enforcement point (API gateway, MCP proxy, tool
// runner) keeps the effective state of every session in memory, starting from the
// compacted vigil.session-status topic and following vigil.commands, and answers
// check(session, capability, resource) locally in microseconds, with no I/O. Commands are
// de-duplicated by commandId; each applied command is acknowledged on vigil.acks so Vigil
// can measure time-to-enforce. When it has not heard from Kafka within `staleAfterMs`,
// it can fail closed for sensitive capabilities. Every record must carry the processor's
// signature (`vigil-jws`, docs/security.md): unsigned, tampered, unknown-key, wrong-topic
// and replayed-stale records are refused, counted by reason and logged, never applied.

/** How records are verified: the processor's public keys, or (tests, migrations) explicitly none. */
export type VerifyOptions =
  | (TrustedKeys & {
      /** How far a session's newer record may be signed before an older one (processors' clocks differ); default 30 s. */
      readonly maxClockSkewMs?: number;
    })
  | { readonly insecureAcceptUnsigned: true };

export interface EnforcerOptions {
  readonly brokers?: readonly string[];
  readonly kafka?: Kafka;
  readonly clientId?: string;
  /** Prefix of Vigil's topics (VIGIL_TOPIC_PREFIX of the processor). */
  readonly topicPrefix?: string;
  /** Name of this enforcement point in acknowledgements (default: a random id). */
  readonly enforcerId?: string;
  /** Fail closed: deny these capability globs while the enforcer is stale. */
  readonly failClosed?: { readonly capabilities: readonly string[]; readonly staleAfterMs: number };
  /**
   * A schema registry client (@kafkajs/confluent-schema-registry) to read Avro commands
   * and statuses (the processor's output with a registry); without it only JSON is read.
   */
  readonly registry?: { decode(buffer: Buffer): Promise<unknown> };
  /** Publish an acknowledgement per applied command (default true). */
  readonly acks?: boolean;
  readonly now?: () => number;
  /**
   * Required: the keys Vigil signs with (`{ jwks }` or `{ jwksUrl }`, e.g. the processor's
   * /.well-known/jwks.json). `{ insecureAcceptUnsigned: true }` applies unsigned records
   * too: anyone who can write to the topics can then restore or grant a session.
   */
  readonly verify: VerifyOptions;
  /** Where refusals are reported (default: one console.warn line per reason every 10 s, with the count). */
  readonly log?: (message: string, fields: Readonly<Record<string, unknown>>) => void;
  /** A prom-client registry to count refusals in (`vigil_enforcer_records_refused_total{reason}`). */
  readonly metricsRegistry?: Registry;
  /**
   * Ended sessions without any restriction are forgotten this long after their `ended`
   * status (default 600,000 ms = 10 min), so memory holds live and restricted sessions
   * only. A restricted or revoked session is never forgotten: forgetting it would allow it.
   */
  readonly forgetEndedAfterMs?: number;
}

/** What the enforcer did with the records it read. */
export interface EnforcerCounts {
  readonly applied: number;
  readonly duplicates: number;
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /** Sessions held in memory now, and ended ones forgotten so far. */
  readonly sessions: number;
  readonly forgotten: number;
}

export interface JitGrant {
  readonly capability: string;
  readonly resourceId?: string;
  readonly expiresAt: string;
}

export interface SessionView {
  readonly enforcement: Enforcement;
  /** Event time of the newest status or command applied. */
  readonly time: string;
  /** Capabilities granted just in time (`grant` commands naming one), enforced here until `expiresAt`. */
  readonly grants?: readonly JitGrant[];
}

/**
 * The enforcer's answer (pure; shared with tests): Vigil's enforcement state first, then
 * the session's just-in-time grants, against this enforcement point's clock. A capability
 * granted just in time is allowed only until its expiry and, when the grant names a
 * resource, only on it.
 */
export function checkView(view: SessionView | undefined, capability: string, resourceId: string | undefined, nowMs: number): Verdict {
  if (view === undefined) return { outcome: "allow" };
  const verdict = check(view.enforcement, capability, resourceId);
  const grants = verdict.outcome === "allow" ? (view.grants ?? []).filter((g) => g.capability === capability) : [];
  if (grants.length === 0) return verdict;
  const live = grants.filter((g) => Date.parse(g.expiresAt) > nowMs);
  if (live.length === 0) return { outcome: "deny", reason: `just-in-time grant of ${capability} expired at ${grants[grants.length - 1]?.expiresAt}` };
  if (live.some((g) => g.resourceId === undefined || g.resourceId === resourceId)) return verdict;
  return { outcome: "deny", reason: `${capability} is granted just in time only on ${live.map((g) => g.resourceId).join(", ")}` };
}

export interface Enforcer {
  /** Resolves once the status topic has been read up to its end at start. */
  start(): Promise<void>;
  check(sessionId: string, capability: string, resourceId?: string): Verdict;
  /**
   * Resolves true once Vigil's state for the session reflects an event at or after `time`
   * (the processor has decided on it), false after `timeoutMs`. A gateway that holds an
   * attempted call calls this, then check().
   */
  decided(sessionId: string, time: string, timeoutMs: number): Promise<boolean>;
  session(sessionId: string): SessionView | undefined;
  /** 'change' (sessionId, view, commandOrStatus) after every applied update. */
  on(event: "change", listener: (sessionId: string, view: SessionView, cause: Command | SessionStatus) => void): this;
  stop(): Promise<void>;
  readonly stale: boolean;
  counts(): EnforcerCounts;
}

const MAX_SEEN = 100_000;

/** Applies a command to a session's enforcement state (pure; shared with tests). */
export function applyCommand(e: Enforcement, c: Command): Enforcement {
  switch (c.type) {
    case "revoke":
      return { ...e, revoked: true, review: c.review };
    case "step_up":
      return { ...e, stepUpRequired: true };
    case "downgrade":
      return { ...e, removed: [...new Set([...e.removed, ...(c.capabilities?.removed ?? [])])], review: c.review.required ? c.review : e.review };
    case "restore": {
      // A person overturned the hold: every restriction is lifted (revocation included).
      if (c.review.status === "overturned") return { ...e, revoked: false, removed: [], deniedOn: [], stepUpRequired: false, review: c.review };
      const restored = new Set(c.capabilities?.remaining ?? []);
      return {
        ...e,
        removed: e.removed.filter((r) => !restored.has(r)),
        deniedOn: e.deniedOn.filter((d) => !restored.has(d.capability)),
        stepUpRequired: false,
        review: c.review,
      };
    }
    case "grant":
    case "deny_grant":
      return e;
    default: {
      const _exhaustive: never = c.type;
      return _exhaustive;
    }
  }
}

export async function createEnforcer(options: EnforcerOptions): Promise<Enforcer> {
  // Checked at run time too: JavaScript callers get no compile error.
  const verifyOptions = options.verify as VerifyOptions | undefined;
  if (verifyOptions === undefined) throw new TypeError("createEnforcer: `verify` is required: { jwks } or { jwksUrl } of Vigil's signing keys");
  const kafka =
    options.kafka ??
    new kafkajs.Kafka({
      brokers: [...(options.brokers ?? ["127.0.0.1:9092"])],
      clientId: options.clientId ?? "vigil-enforcer",
      logLevel: kafkajs.logLevel.WARN,
    });
  const prefix = options.topicPrefix ?? "";
  const topics = { status: `${prefix}${TOPICS.sessionStatus}`, commands: `${prefix}${TOPICS.commands}`, acks: `${prefix}${TOPICS.acks}` };
  const enforcerId = options.enforcerId ?? `enforcer-${randomUUID().slice(0, 8)}`;
  const now = options.now ?? (() => Date.now());
  const sessions = new Map<string, SessionView>();
  /** Unrestricted ended sessions → when their `ended` status was applied (insertion-ordered). */
  const ended = new Map<string, number>();
  const forgetAfterMs = options.forgetEndedAfterMs ?? 600_000;
  let forgotten = 0;
  const seen = new Set<string>();
  const emitter = new EventEmitter();
  // Each enforcer reads everything: a group of its own, from the beginning.
  const consumer: Consumer = kafka.consumer({ groupId: `${enforcerId}-${randomUUID()}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  const producer: Producer | undefined = options.acks === false ? undefined : kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  let lastHeard = now();
  const verifier = "insecureAcceptUnsigned" in verifyOptions ? undefined : recordVerifier(verifyOptions);
  const maxSkewSeconds = ("maxClockSkewMs" in verifyOptions ? (verifyOptions.maxClockSkewMs ?? 30_000) : 30_000) / 1000;
  /** Per topic and session: when the newest record applied was signed. */
  const signedAt = new Map<string, number>();
  const counts = { applied: 0, duplicates: 0, refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number> };
  // Several enforcers in one process may share a registry: they share the counter too.
  const refusedCounter = options.metricsRegistry
    ? ((options.metricsRegistry.getSingleMetric("vigil_enforcer_records_refused_total") as Counter<"reason"> | undefined) ??
      new Counter({
        name: "vigil_enforcer_records_refused_total",
        help: "Records on the commands and status topics the enforcer refused to apply, by reason",
        labelNames: ["reason"],
        registers: [options.metricsRegistry],
      }))
    : undefined;
  const lastLogged = new Map<RefusalReason, { at: number; suppressed: number }>();
  const log =
    options.log ??
    ((message: string, fields: Readonly<Record<string, unknown>>) => {
      // Rate-limited: a flood of forgeries must not become a flood of log lines.
      const reason = fields.reason as RefusalReason;
      const last = lastLogged.get(reason);
      if (last && now() - last.at < 10_000) {
        last.suppressed++;
        return;
      }
      lastLogged.set(reason, { at: now(), suppressed: 0 });
      console.warn(JSON.stringify({ level: "warn", msg: message, ...fields, ...(last?.suppressed ? { suppressedSinceLast: last.suppressed } : {}) }));
    });
  const refused = (reason: RefusalReason, detail: string, topic: string, m: KafkaMessage) => {
    counts.refused[reason]++;
    refusedCounter?.inc({ reason });
    log("vigil enforcer: record refused", { reason, detail, topic, offset: m.offset, key: m.key?.toString("utf8").slice(0, 200) ?? null });
  };
  /** Refuses a verified record signed before the newest one applied for its session (a replay), beyond the clock skew. */
  const inOrder = (topic: string, sessionId: string, v: Verified | undefined): boolean => {
    if (v === undefined || !v.ok) return true;
    const key = `${topic}\u0000${sessionId}`;
    const newest = signedAt.get(key);
    if (newest !== undefined && v.iat < newest - maxSkewSeconds) return false;
    if (newest === undefined || v.iat > newest) signedAt.set(key, v.iat);
    return true;
  };
  consumer.on(consumer.events.FETCH, () => {
    lastHeard = now();
  });

  const update = (sessionId: string, view: SessionView, cause: Command | SessionStatus) => {
    sessions.set(sessionId, view);
    // Re-inserted, so the map stays ordered by when each session ended.
    ended.delete(sessionId);
    if ("status" in cause && cause.status === "ended" && !isRestricted(view.enforcement)) ended.set(sessionId, now());
    emitter.emit("change", sessionId, view, cause);
  };
  /** Forgets unrestricted sessions that ended at least `forgetEndedAfterMs` ago (oldest first). */
  const forgetEnded = () => {
    const cutoff = now() - forgetAfterMs;
    for (const [id, at] of ended) {
      if (at > cutoff) break;
      ended.delete(id);
      sessions.delete(id);
      signedAt.delete(`${topics.status}\u0000${id}`);
      signedAt.delete(`${topics.commands}\u0000${id}`);
      forgotten++;
    }
  };

  const applyStatus = (s: SessionStatus, publishedAt: number) => {
    const current = sessions.get(s.sessionId);
    if (current && Date.parse(current.time) > Date.parse(s.time)) return;
    // The status already reflects its last command: that command is enforced now.
    counts.applied++;
    if (s.lastCommandId) ack(s.lastCommandId, s.sessionId, s.time, publishedAt);
    update(
      s.sessionId,
      {
        time: s.time,
        enforcement: { revoked: s.revoked, stepUpRequired: s.stepUpRequired, removed: s.removed, deniedOn: s.deniedOn, review: s.review },
        ...(current?.grants ? { grants: current.grants } : {}),
      },
      s,
    );
  };

  const acks: { key: string; value: string }[] = [];
  const markApplied = (commandId: string) => {
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.add(commandId);
  };
  const acked = new Set<string>();
  const ack = (commandId: string, sessionId: string, commandTime: string, publishedAt: number) => {
    if (acked.has(commandId)) return;
    if (acked.size >= MAX_SEEN) acked.clear();
    acked.add(commandId);
    if (producer)
      acks.push({
        key: sessionId,
        value: JSON.stringify({
          commandId,
          sessionId,
          enforcerId,
          commandTime,
          publishedAt: new Date(publishedAt).toISOString(),
          appliedAt: new Date(now()).toISOString(),
        }),
      });
  };
  const applyCommand_ = (c: Command, publishedAt: number) => {
    if (seen.has(c.commandId)) {
      counts.duplicates++;
      return;
    }
    counts.applied++;
    markApplied(c.commandId);
    const current: SessionView = sessions.get(c.sessionId) ?? { time: c.time, enforcement: initialEnforcement };
    const granted = c.type === "grant" && c.grant && c.expiresAt ? { ...c.grant, expiresAt: c.expiresAt } : undefined;
    const grants = granted
      ? [...(current.grants ?? []).filter((g) => g.capability !== granted.capability || g.resourceId !== granted.resourceId), granted].slice(-64)
      : current.grants;
    update(
      c.sessionId,
      {
        time: Date.parse(current.time) > Date.parse(c.time) ? current.time : c.time,
        enforcement: applyCommand(current.enforcement, c),
        ...(grants ? { grants } : {}),
      },
      c,
    );
    ack(c.commandId, c.sessionId, c.time, publishedAt);
  };

  let statusEnds = new Map<number, bigint>();
  let caughtUp: () => void = () => {};
  const statusReady = new Promise<void>((resolve) => (caughtUp = resolve));
  const checkCaughtUp = (partition: number, offset: string) => {
    const end = statusEnds.get(partition);
    if (end !== undefined && BigInt(offset) + 1n >= end) statusEnds.delete(partition);
    if (statusEnds.size === 0) caughtUp();
  };

  const enforcer: Enforcer = {
    async start() {
      if (producer) await producer.connect();
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topics.status).catch(() => []);
      await admin.disconnect();
      statusEnds = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
      if (statusEnds.size === 0) caughtUp();
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.status, topics.commands], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const isStatusTopic = batch.topic === topics.status;
          // Signatures are checked for the whole batch at once (the crypto runs off the event loop), then applied in order.
          const verdicts = verifier
            ? await Promise.all(batch.messages.map((m) => (m.value ? verifier(batch.topic, m.value, m.headers) : undefined)))
            : batch.messages.map(() => undefined);
          for (const [i, m] of batch.messages.entries()) {
            const verdict = verdicts[i];
            if (verdict && !verdict.ok) {
              refused(verdict.reason, verdict.detail, batch.topic, m);
              if (isStatusTopic) checkCaughtUp(batch.partition, m.offset);
              continue;
            }
            const json = await readRecordValue(m.value, options.registry, isStatusTopic ? statusFromAvro : commandFromAvro);
            if (isStatusTopic) {
              // A status is the session's whole state; tombstones and unreadable records are skipped.
              const parsed = SessionStatus.safeParse(json);
              if (parsed.success) {
                if (inOrder(batch.topic, parsed.data.sessionId, verdict)) applyStatus(parsed.data, Number(m.timestamp));
                else refused("stale", "signed before the newest status applied for the session", batch.topic, m);
              }
              checkCaughtUp(batch.partition, m.offset);
            } else {
              const parsed = CommandSchema.safeParse(json);
              if (parsed.success) {
                if (inOrder(batch.topic, parsed.data.sessionId, verdict)) applyCommand_(parsed.data, Number(m.timestamp));
                else refused("stale", "signed before the newest command applied for the session", batch.topic, m);
              }
            }
          }
          if (producer && acks.length > 0) await producer.send({ topic: topics.acks, messages: acks.splice(0) });
          forgetEnded();
          lastHeard = now();
        },
      });
      await statusReady;
    },
    check(sessionId, capability, resourceId) {
      if (options.failClosed && now() - lastHeard > options.failClosed.staleAfterMs && anyGlob(options.failClosed.capabilities, capability)) {
        return { outcome: "deny", reason: `enforcer has not heard from Kafka for ${now() - lastHeard} ms (fail closed)` };
      }
      return checkView(sessions.get(sessionId), capability, resourceId, now());
    },
    session: (id) => sessions.get(id),
    decided(sessionId, time, timeoutMs) {
      const target = Date.parse(time);
      const done = () => {
        const v = sessions.get(sessionId);
        return v !== undefined && Date.parse(v.time) >= target;
      };
      if (done()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const onChange = (id: string) => {
          if (id !== sessionId || !done()) return;
          cleanup();
          resolve(true);
        };
        const timer = setTimeout(() => {
          cleanup();
          resolve(false);
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          emitter.off("change", onChange);
        };
        emitter.on("change", onChange);
      });
    },
    on(event, listener) {
      emitter.on(event, listener);
      return enforcer;
    },
    async stop() {
      await consumer.disconnect();
      await producer?.disconnect();
    },
    get stale() {
      return options.failClosed !== undefined && now() - lastHeard > options.failClosed.staleAfterMs;
    },
    counts: () => ({ applied: counts.applied, duplicates: counts.duplicates, refused: { ...counts.refused }, sessions: sessions.size, forgotten }),
  };
  return enforcer;
}
