import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from "kafkajs";
import type { CompiledPolicy } from "../../core/index.js";
import type { BatchInput } from "../../app/batch-processor.js";
import { processBatch } from "../../app/batch-processor.js";
import type { Judge } from "../../app/judge.js";
import { withBudget } from "../../app/judge.js";
import { systemClock } from "../clock.js";
import type { DurableState, SessionSnapshot } from "../../app/durable-state.js";
import type { BatchPhase, Metrics } from "../../app/metrics.js";
import type { Config } from "../../config/config.js";
import type { Logger } from "../logger.js";
import type { AvroRegistry } from "./event-decoder.js";
import { decodeEvent } from "./event-decoder.js";
import type { OutputEncoder, RejectedMessage } from "./output.js";
import type { RecordSigner } from "../signing.js";
import type { RecordVerifier } from "../../codec/record-jws.js";
import { unauthenticated } from "../../app/authenticity.js";
import { PRODUCER_HEADER } from "../../protocol/signature.js";
import { publishBatch } from "./output.js";

// The live processor: a consumer group on vigil.events, one batch at a time per partition.
// Order per batch: decode → decide → publish (acks=all) → persist state (MULTI) → commit
// (sent, not waited for: the next batch starts while it is in flight).
// A crash anywhere re-delivers from the last commit; deterministic command ids and
// per-session snapshot offsets make the re-run publish the same command ids and apply
// nothing twice. A failing batch (Redis or broker down) throws: kafkajs backs off and
// retries it from the same offset, and /readyz reports not ready meanwhile.
//
// Lost state. Each batch's persist records the last offset it reflects; the next batch's
// load reads it back. When the state reaches less far than the batch starts (Redis was
// flushed, or restarted from an older dump), the processor seeks back to the first offset
// the state lacks (the log's start when nothing is recorded) and re-reads up to where it
// was: those events are decided again into state but nothing is published (their commands
// went out the first time), nothing is committed, and the judge is not asked. Then it goes
// on as before. How far back that reaches and what it costs: docs/operations.md.
//
// Memory. Per partition, the sessions written recently stay in memory (at most
// HOT_SESSIONS_PER_PARTITION; ended and revoked ones never); one not written for
// VIGIL_HOT_IDLE_SECONDS is dropped, checked after each batch of its partition and by a
// sweep of idle partitions. Redis keeps it for VIGIL_SESSION_TTL_SECONDS.

export const HOT_SESSIONS_PER_PARTITION = 50_000;

/** One partition's sessions in memory, in the order they were last written. */
interface HotPartition {
  readonly sessions: Map<string, SessionSnapshot>;
  readonly writtenAt: Map<string, number>;
}
const hotPartition = (): HotPartition => ({ sessions: new Map(), writtenAt: new Map() });

/** Drops the sessions written before `before` (the oldest come first). */
function dropIdle(p: HotPartition, before: number): void {
  for (const [id, at] of p.writtenAt) {
    if (at >= before) break;
    p.writtenAt.delete(id);
    p.sessions.delete(id);
  }
}

export interface ProcessorDeps {
  readonly config: Config;
  readonly consumer: Consumer;
  readonly producer: Producer;
  readonly state: DurableState;
  readonly policy: () => CompiledPolicy;
  readonly registry?: AvroRegistry;
  readonly encoder: OutputEncoder;
  /** Signs every command and status record (`vigil-jws`). */
  readonly signer: RecordSigner;
  /** Verifies a verdict's signature (the review service's key, made for vigil.reviews); shared with the verdict bridge. */
  readonly verifyVerdict: RecordVerifier;
  /** Verifies producer signatures on events against VIGIL_PRODUCER_KEYS_FILE (policy `authenticity.require: signature`). */
  readonly verifyProducer?: RecordVerifier;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now?: () => number;
  /** The optional judge for uncertain calls (off unless VIGIL_JUDGE_URL is set). */
  readonly judge?: Judge;
  /** Called when the consumer crashed for good (kafkajs will not restart it, e.g. an ACL refuses a write): the process should exit and be restarted. */
  readonly onFatal?: (error: Error) => void;
}

export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `fetching`: a fetch from the broker answered within the last max(15 s, session timeout); a consumer that cannot reach the broker keeps retrying without leaving the group. */
  health(): { joined: boolean; fetching: boolean; lastBatchError?: string; batches: number };
  /** Hot sessions that are neither ended nor revoked (computed when asked: off the hot path). */
  activeSessions(): number;
}

/** Where a batch stands against the state's recorded position; a gap is state that was lost. */
export function stateGap(through: string | undefined, firstOffset: string): { from: bigint } | undefined {
  const first = BigInt(firstOffset);
  const next = through === undefined ? 0n : BigInt(through) + 1n;
  return next < first ? { from: next } : undefined;
}

export function createProcessor(d: ProcessorDeps): Processor {
  const hot = new Map<number, HotPartition>();
  const now = d.now ?? (() => Date.now());
  const idleMs = d.config.hotIdleSeconds * 1000;
  // Partitions with a batch in flight: the idle sweep leaves their sessions alone.
  const busy = new Set<number>();
  // Per partition, the offset up to which the log is being re-read to rebuild lost state, and
  // whether the next re-read batch starts the state afresh (the rebuild started from nothing).
  const rebuilding = new Map<number, { until: bigint; fresh: boolean }>();
  let sweeper: NodeJS.Timeout | undefined;
  // When the broker last answered a fetch (kafkajs fetches every maxWaitTimeInMs even when idle).
  let lastFetch = 0;
  const fetchFreshMs = Math.max(15_000, d.config.kafka.sessionTimeoutMs);
  let joined = false;
  let batches = 0;
  let lastBatchError: string | undefined;
  // Bumped whenever the hot cache is dropped, so a batch still in flight across a
  // rebalance does not put its (possibly stale) sessions back.
  let generation = 0;
  // Offset commits, one request at a time: the latest offset per partition waits while one is in flight.
  const toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  let committing: Promise<void> | undefined;
  let stopping = false;
  const commit = (offset: { topic: string; partition: number; offset: string }): Promise<void> => {
    toCommit.set(`${offset.partition}\u0000${offset.topic}`, offset);
    committing ??= (async () => {
      while (toCommit.size > 0) {
        const offsets = [...toCommit.values()];
        toCommit.clear();
        try {
          await d.consumer.commitOffsets(offsets);
        } catch (e) {
          // Safe to lose: the state is persisted, so what a later commit does not cover is
          // re-delivered after a restart or rebalance and recognised as already applied.
          d.log.warn("offset commit failed; a later commit covers it", { error: e instanceof Error ? e.message : String(e) });
        }
      }
      committing = undefined;
    })();
    return committing;
  };
  const dropHot = () => {
    generation++;
    hot.clear();
    rebuilding.clear();
  };

  async function decode(m: KafkaMessage): Promise<BatchInput> {
    const decoded = await decodeEvent(m.value, d.config.maxMessageBytes, d.registry);
    return decoded.ok
      ? { offset: m.offset, ok: true, event: decoded.event, format: decoded.format }
      : { offset: m.offset, ok: false, reason: decoded.reason, error: decoded.error };
  }

  /** The decoded event, or a DLQ input when the policy's `authenticity` does not accept its producer. */
  async function authenticated(policy: CompiledPolicy, topic: string, m: KafkaMessage, input: BatchInput): Promise<BatchInput> {
    if (input.ok && input.event.type === "review.decided") {
      // A verdict counts only with the review service's signature, made for vigil.reviews: an
      // agent that can write vigil.events must not be able to overturn its own hold.
      const verdict = await d.verifyVerdict(d.config.topics.reviews, m.value ?? Buffer.alloc(0), m.headers);
      return verdict.ok
        ? input
        : {
            offset: input.offset,
            ok: false,
            reason: "unauthenticated",
            error: `review.decided ${input.event.eventId} for session ${input.event.sessionId} is not signed by the review service: ${verdict.reason} (${verdict.detail})`,
          };
    }
    if (!input.ok || !policy.authenticity?.types.has(input.event.type)) return input;
    const header = m.headers?.[PRODUCER_HEADER];
    const claimed = (Array.isArray(header) ? header[0] : header)?.toString("utf8");
    const signature =
      policy.authenticity.require !== "signature"
        ? undefined
        : d.verifyProducer
          ? await d.verifyProducer(topic, m.value ?? Buffer.alloc(0), m.headers)
          : { ok: false as const, reason: "unknown_key", detail: "no producer keys configured (VIGIL_PRODUCER_KEYS_FILE)" };
    const why = unauthenticated(policy, input.event, {
      claimed,
      signature: signature?.ok === false && signature.reason === "unsigned" ? undefined : signature,
    });
    return why === undefined ? input : { offset: input.offset, ok: false, reason: "unauthenticated", error: why };
  }

  /** Keeps the batch's written sessions in memory (active ones only), within the cap and the idle time. */
  function remember(cache: HotPartition, sessions: readonly SessionSnapshot[], at: number): void {
    for (const s of sessions) {
      const id = s.state.sessionId;
      // Ended and revoked sessions rarely come back: keep them in Redis only.
      cache.sessions.delete(id);
      cache.writtenAt.delete(id);
      if (!s.state.ended && !s.state.enforcement.revoked) {
        cache.sessions.set(id, s);
        cache.writtenAt.set(id, at);
      }
    }
    // Bounded: beyond the cap the least recently written sessions fall back to Redis.
    for (const id of cache.writtenAt.keys()) {
      if (cache.sessions.size <= HOT_SESSIONS_PER_PARTITION) break;
      cache.sessions.delete(id);
      cache.writtenAt.delete(id);
    }
    dropIdle(cache, at - idleMs);
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    busy.add(batch.partition);
    try {
      await handleBatch(payload);
    } catch (e) {
      // Redis holds the truth after a failed batch: nothing of it on one server, all of it on
      // a cluster once the next load applies the batch's journal. The retry reads it there,
      // not from this partition's sessions in memory (which are from before the batch).
      hot.delete(batch.partition);
      lastBatchError = e instanceof Error ? e.message : String(e);
      d.log.error("batch failed; it will be retried from the last committed offset", { partition: batch.partition, error: lastBatchError });
      throw e;
    } finally {
      busy.delete(batch.partition);
    }
  }

  async function handleBatch({ batch, heartbeat, resolveOffset }: EachBatchPayload): Promise<void> {
    const t0 = process.hrtime.bigint();
    // Each phase's time, for vigil_batch_phase_seconds: from the end of the previous phase.
    let lapAt = t0;
    const lap = (phase: BatchPhase) => {
      const t = process.hrtime.bigint();
      d.metrics.batchPhase(phase, Number(t - lapAt) / 1e9);
      lapAt = t;
    };
    const { topic, partition } = batch;
    const policy = d.policy();
    const decoded: BatchInput[] = [];
    for (const m of batch.messages) decoded.push(await decode(m));
    // Producer signatures (when the policy asks for them) and verdicts' signatures are checked for the whole batch at once.
    const inputs =
      policy.authenticity || decoded.some((i) => i.ok && i.event.type === "review.decided")
        ? await Promise.all(batch.messages.map((m, i) => authenticated(policy, topic, m, decoded[i] as BatchInput)))
        : decoded;
    lap("decode");
    const startedIn = generation;
    const cache = hot.get(partition) ?? hotPartition();
    const keep = () => {
      if (generation === startedIn) hot.set(partition, cache);
    };

    // Rebuilding lost state: the events below `until` were decided before; fold them into
    // state only, and go on with the rest of the batch (if any) as usual.
    let live = inputs;
    let messages = batch.messages;
    // A rebuild from nothing that re-read nothing (the log starts where the batch does): this batch starts the state.
    let startsState = false;
    const rebuild = rebuilding.get(partition);
    if (rebuild !== undefined) {
      const until = rebuild.until;
      const cut = inputs.findIndex((i) => BigInt(i.offset) >= until);
      const replayed = cut === -1 ? inputs : inputs.slice(0, cut);
      if (replayed.length > 0) {
        const result = await processBatch(policy, d.state, cache.sessions, { topic, partition }, replayed, { replay: true });
        const last = (replayed[replayed.length - 1] as BatchInput).offset;
        await heartbeat();
        await d.state.persist({ ...result.changes, log: { topic, partition, through: last, create: rebuild.fresh } });
        rebuilding.set(partition, { until, fresh: false });
        remember(cache, result.changes.sessions, now());
        keep();
        resolveOffset(last);
        d.metrics.stateRebuilt(replayed.length);
      }
      if (cut === -1) return;
      startsState = rebuilding.get(partition)?.fresh === true;
      rebuilding.delete(partition);
      // Nothing re-read: the offsets between were not records (Kafka transaction markers), and nothing was lost.
      if (replayed.length === 0) d.log.info("no records between the state's position and the batch; nothing was lost", { partition, offset: until.toString() });
      else d.log.info("state rebuilt from the log; deciding and publishing again", { partition, offset: until.toString() });
      live = inputs.slice(cut);
      messages = batch.messages.slice(cut);
    }

    // The judge gets at most a third of the session timeout per batch, less one question's
    // own timeout: a dead judge costs latency, never the partition.
    const judging = d.judge
      ? {
          judging: {
            judge: withBudget(d.judge, Math.max(0, d.config.kafka.sessionTimeoutMs / 3 - (d.config.judge?.timeoutMs ?? 0)), systemClock),
            clock: systemClock,
            onJudged: (outcome: string, seconds: number) => d.metrics.judged(outcome, seconds),
          },
        }
      : {};
    const result = await processBatch(policy, d.state, cache.sessions, { topic, partition }, live, judging);
    lap("decide");
    const first = (live[0] as BatchInput).offset;
    // Not again right after a rebuild: offsets without records (transaction markers) would look like a gap forever.
    const gap = rebuild === undefined ? stateGap(result.stateThrough, first) : undefined;
    if (gap) {
      // The state lacks events this group already committed past: re-read them first.
      rebuilding.set(partition, { until: BigInt(first), fresh: result.stateThrough === undefined });
      hot.delete(partition);
      d.log.warn("state is behind the log (Redis lost data); rebuilding it from the log", {
        topic,
        partition,
        stateThrough: result.stateThrough ?? "nothing recorded",
        from: gap.from.toString(),
        to: first,
      });
      d.consumer.seek({ topic, partition, offset: gap.from.toString() });
      return;
    }
    // Undecodable, invalid and failed events: the original message to the DLQ.
    const byOffset = result.rejected.length > 0 ? new Map(messages.map((m) => [m.offset, m])) : undefined;
    const rejected: RejectedMessage[] = result.rejected.map((r) => {
      const m = byOffset?.get(r.offset);
      return { key: m?.key ?? null, value: m?.value ?? null, headers: m?.headers, partition, offset: r.offset, reason: r.reason, error: r.error };
    });
    await heartbeat();
    await publishBatch(d.producer, d.config, d.encoder, d.signer, result, rejected);
    lap("publish");
    const last = messages[messages.length - 1] as KafkaMessage;
    // The position is created only by a batch that starts where the state starts (a new log).
    await d.state.persist({
      ...result.changes,
      log: { topic, partition, through: last.offset, create: result.stateThrough === undefined && (first === "0" || startsState) },
    });
    const wall = now();
    remember(cache, result.changes.sessions, wall);
    keep();
    lap("persist");
    resolveOffset(last.offset);
    // The commit does not hold up the next batch (it is not needed for it: the state is
    // persisted); commits go out one at a time, in order, and a stop waits for them.
    const committed = commit({ topic, partition, offset: (BigInt(last.offset) + 1n).toString() });
    if (stopping) await committed;
    lap("commit");

    for (const p of result.processed) {
      d.metrics.eventProcessed(p.type, p.format);
      if (p.result) d.metrics.actionResult(p.result);
      for (const f of p.toolFindings ?? []) {
        d.metrics.mcpToolFinding(f.code, f.action);
        // A held or hidden tool has its command; a reported one has only this line and the audit record.
        d.log.warn("mcp tool finding", { code: f.code, action: f.action, finding: f.message });
      }
    }
    for (const r of rejected) d.metrics.eventRejected(r.reason);
    for (const c of result.commands) {
      d.metrics.commandIssued(c.type, c.reasons[0]?.code ?? "none");
      d.metrics.eventTimeToCommand((wall - Date.parse(c.time)) / 1000);
    }
    for (const a of result.audits) {
      d.metrics.decision(a.level);
      for (const f of a.feedback ?? []) d.metrics.feedback(f.code);
      for (const s of a.signals) d.metrics.signal(s.code.split(".")[0] ?? "unknown", s.weight);
    }
    for (const s of result.statuses) d.metrics.riskScore(s.riskScore);
    if (result.alreadyApplied > 0) d.metrics.alreadyApplied(result.alreadyApplied);
    d.metrics.consumerLag(topic, partition, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    d.metrics.batch(Number(process.hrtime.bigint() - t0) / 1e9, batch.messages.length);
    batches++;
    lastBatchError = undefined;
    if (rejected.length > 0) d.log.warn("events dead-lettered", { partition, count: rejected.length, reasons: [...new Set(rejected.map((r) => r.reason))] });
  }

  return {
    async start() {
      const { GROUP_JOIN, REBALANCING, CRASH, STOP, FETCH } = d.consumer.events;
      d.consumer.on(FETCH, () => {
        lastFetch = now();
      });
      d.consumer.on(GROUP_JOIN, (e) => {
        joined = true;
        lastFetch = now();
        const assigned = ((e.payload.memberAssignment[d.config.topics.events] as number[] | undefined) ?? []).map(Number);
        // State moves with partitions through Redis. Whatever this member held before the
        // rebalance may have been processed by another member meanwhile (even a partition
        // it gets back), so the hot cache starts empty and reloads from Redis on demand.
        dropHot();
        d.log.info("joined consumer group", { groupId: e.payload.groupId, partitions: assigned });
      });
      d.consumer.on(REBALANCING, () => {
        joined = false;
        dropHot();
      });
      d.consumer.on(CRASH, (e) => {
        joined = false;
        dropHot();
        d.log.error("consumer crashed", { error: String(e.payload.error), restart: e.payload.restart });
        if (!e.payload.restart) d.onFatal?.(e.payload.error);
      });
      d.consumer.on(STOP, () => {
        joined = false;
      });
      await d.consumer.connect();
      await d.producer.connect();
      await d.consumer.subscribe({ topics: [d.config.topics.events], fromBeginning: true });
      await d.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
      // Partitions without traffic get no batch to drop their idle sessions after: sweep them.
      sweeper = setInterval(
        () => {
          const before = now() - idleMs;
          for (const [partition, cache] of hot) if (!busy.has(partition)) dropIdle(cache, before);
        },
        Math.min(idleMs, 30_000),
      );
      sweeper.unref();
    },
    async stop() {
      clearInterval(sweeper);
      // kafkajs finishes the batch in flight (which, stopping, waits for its commit) before disconnecting.
      stopping = true;
      await committing;
      await d.consumer.disconnect();
      await d.producer.disconnect();
      joined = false;
    },
    activeSessions() {
      let active = 0;
      for (const c of hot.values()) for (const s of c.sessions.values()) if (!s.state.ended && !s.state.enforcement.revoked) active++;
      return active;
    },
    health: () => ({ joined, fetching: now() - lastFetch <= fetchFreshMs, batches, ...(lastBatchError ? { lastBatchError } : {}) }),
  };
}
