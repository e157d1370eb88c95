import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from "kafkajs";
import type { CompiledPolicy } from "../../core/index.js";
import type { BatchInput, BatchOptions, BatchResult } from "../../app/batch-processor.js";
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
// Order per batch (handleBatch, its steps below it): decode → (rebuild) → decide → publish
// (acks=all) → persist state (MULTI) → commit (sent, not waited for: the next batch starts
// while it is in flight) → report.
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

/** Keeps a batch's written sessions in memory (active ones only), within the cap and the idle time. */
function keepHot(cache: HotPartition, sessions: readonly SessionSnapshot[], at: number, idleMs: number): void {
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

/**
 * The hot sessions of every partition this member owns. A rebalance drops them all (`clear`):
 * whatever this member held may have been processed by another member meanwhile. A batch
 * in flight across a rebalance must not put its (possibly stale) sessions back, so `open`
 * hands out a `keep` that stores the partition's cache only if no `clear` came between.
 */
class HotSessions {
  private readonly partitions = new Map<number, HotPartition>();
  private generation = 0;

  open(partition: number): { cache: HotPartition; keep: () => void } {
    const startedIn = this.generation;
    const cache = this.partitions.get(partition) ?? hotPartition();
    return {
      cache,
      keep: () => {
        if (this.generation === startedIn) this.partitions.set(partition, cache);
      },
    };
  }
  forget(partition: number): void {
    this.partitions.delete(partition);
  }
  clear(): void {
    this.generation++;
    this.partitions.clear();
  }
  /** Drops idle sessions of the partitions without a batch in flight (those get no batch to drop them after). */
  sweep(before: number, busy: ReadonlySet<number>): void {
    for (const [partition, cache] of this.partitions) if (!busy.has(partition)) dropIdle(cache, before);
  }
  active(): number {
    let active = 0;
    for (const c of this.partitions.values()) for (const s of c.sessions.values()) if (!s.state.ended && !s.state.enforcement.revoked) active++;
    return active;
  }
}

/**
 * Offset commits, one request at a time: while one is in flight, the latest offset per
 * partition waits for the next. A failed commit is logged and left to a later one.
 */
class OffsetCommits {
  private readonly waiting = new Map<string, { topic: string; partition: number; offset: string }>();
  private sending: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly log: Logger,
  ) {}

  /** Resolves once this offset (or a later one of its partition) was sent. */
  commit(offset: { topic: string; partition: number; offset: string }): Promise<void> {
    this.waiting.set(`${offset.partition}\u0000${offset.topic}`, offset);
    this.sending ??= (async () => {
      while (this.waiting.size > 0) {
        const offsets = [...this.waiting.values()];
        this.waiting.clear();
        try {
          await this.consumer.commitOffsets(offsets);
        } catch (e) {
          // Safe to lose: the state is persisted, so what a later commit does not cover is
          // re-delivered after a restart or rebalance and recognised as already applied.
          this.log.warn("offset commit failed; a later commit covers it", { error: e instanceof Error ? e.message : String(e) });
        }
      }
      this.sending = undefined;
    })();
    return this.sending;
  }

  /** The commits in flight, if any. */
  get inFlight(): Promise<void> | undefined {
    return this.sending;
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

// The steps of one batch, in order: decode → (rebuild) → decide → publish → persist →
// commit → report. Each is a function of what the one before returned.

/** Step 1: each message decoded and validated; a failure becomes the DLQ input naming it. */
async function decodeMessage(d: ProcessorDeps, m: KafkaMessage): Promise<BatchInput> {
  const decoded = await decodeEvent(m.value, d.config.maxMessageBytes, d.registry);
  return decoded.ok
    ? { offset: m.offset, ok: true, event: decoded.event, format: decoded.format }
    : { offset: m.offset, ok: false, reason: decoded.reason, error: decoded.error };
}

/** The decoded event, or a DLQ input when the policy's `authenticity` does not accept its producer. */
async function authenticated(d: ProcessorDeps, policy: CompiledPolicy, topic: string, m: KafkaMessage, input: BatchInput): Promise<BatchInput> {
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

/** Step 1, whole: decode every message, then check the signatures the policy or a verdict needs, for the whole batch at once. */
async function decodeBatch(d: ProcessorDeps, policy: CompiledPolicy, topic: string, messages: readonly KafkaMessage[]): Promise<BatchInput[]> {
  const decoded: BatchInput[] = [];
  for (const m of messages) decoded.push(await decodeMessage(d, m));
  return policy.authenticity || decoded.some((i) => i.ok && i.event.type === "review.decided")
    ? await Promise.all(messages.map((m, i) => authenticated(d, policy, topic, m, decoded[i] as BatchInput)))
    : decoded;
}

/** Re-reading the log to rebuild lost state, per partition: up to which offset, and whether the next re-read batch starts the state afresh. */
interface Rebuild {
  readonly until: bigint;
  readonly fresh: boolean;
}

/** What a batch works on: where it is from, its policy and its partition's hot sessions. */
interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  readonly policy: CompiledPolicy;
  readonly cache: HotPartition;
  /** Stores the partition's hot sessions back (unless a rebalance came between). */
  readonly keep: () => void;
}

/**
 * Step 2, only while rebuilding lost state: the events below `until` were decided before;
 * fold them into state only (nothing published, nothing committed, no judge), and return
 * the rest of the batch to go on with as usual — none when the batch was all re-read.
 */
async function rebuildFromLog(
  d: ProcessorDeps,
  b: BatchContext,
  rebuilding: Map<number, Rebuild>,
  rebuild: Rebuild,
  inputs: readonly BatchInput[],
  messages: readonly KafkaMessage[],
  payload: Pick<EachBatchPayload, "heartbeat" | "resolveOffset">,
  at: () => number,
): Promise<{ inputs: readonly BatchInput[]; messages: readonly KafkaMessage[]; startsState: boolean } | undefined> {
  const { topic, partition } = b;
  const until = rebuild.until;
  const cut = inputs.findIndex((i) => BigInt(i.offset) >= until);
  const replayed = cut === -1 ? inputs : inputs.slice(0, cut);
  if (replayed.length > 0) {
    const result = await processBatch(b.policy, d.state, b.cache.sessions, { topic, partition }, replayed, { replay: true });
    const last = (replayed[replayed.length - 1] as BatchInput).offset;
    await payload.heartbeat();
    await d.state.persist({ ...result.changes, log: { topic, partition, through: last, create: rebuild.fresh } });
    rebuilding.set(partition, { until, fresh: false });
    keepHot(b.cache, result.changes.sessions, at(), d.config.hotIdleSeconds * 1000);
    b.keep();
    payload.resolveOffset(last);
    d.metrics.stateRebuilt(replayed.length);
  }
  if (cut === -1) return undefined;
  // A rebuild from nothing that re-read nothing (the log starts where the batch does): this batch starts the state.
  const startsState = rebuilding.get(partition)?.fresh === true;
  rebuilding.delete(partition);
  // Nothing re-read: the offsets between were not records (Kafka transaction markers), and nothing was lost.
  if (replayed.length === 0) d.log.info("no records between the state's position and the batch; nothing was lost", { partition, offset: until.toString() });
  else d.log.info("state rebuilt from the log; deciding and publishing again", { partition, offset: until.toString() });
  return { inputs: inputs.slice(cut), messages: messages.slice(cut), startsState };
}

/**
 * The judge for step 3, if one is configured: at most a third of the session timeout per
 * batch, less one question's own timeout, so a dead judge costs latency, never the partition.
 */
function judgeOptions(d: ProcessorDeps): BatchOptions {
  if (!d.judge) return {};
  return {
    judging: {
      judge: withBudget(d.judge, Math.max(0, d.config.kafka.sessionTimeoutMs / 3 - (d.config.judge?.timeoutMs ?? 0)), systemClock),
      clock: systemClock,
      onJudged: (outcome: string, seconds: number) => d.metrics.judged(outcome, seconds),
    },
  };
}

/** Undecodable, invalid and failed events, each with its original message, for the DLQ. */
function deadLetters(result: BatchResult, messages: readonly KafkaMessage[], partition: number): RejectedMessage[] {
  const byOffset = result.rejected.length > 0 ? new Map(messages.map((m) => [m.offset, m])) : undefined;
  return result.rejected.map((r) => {
    const m = byOffset?.get(r.offset);
    return { key: m?.key ?? null, value: m?.value ?? null, headers: m?.headers, partition, offset: r.offset, reason: r.reason, error: r.error };
  });
}

/** Step 7: the batch's metrics and log lines, once it is committed. */
function report(
  d: ProcessorDeps,
  batch: EachBatchPayload["batch"],
  result: BatchResult,
  rejected: readonly RejectedMessage[],
  lastOffset: string,
  wall: number,
  seconds: number,
): void {
  const { topic, partition } = batch;
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
  d.metrics.consumerLag(topic, partition, Math.max(0, Number(batch.highWatermark) - Number(lastOffset) - 1));
  d.metrics.batch(seconds, batch.messages.length);
  if (rejected.length > 0) d.log.warn("events dead-lettered", { partition, count: rejected.length, reasons: [...new Set(rejected.map((r) => r.reason))] });
}

/** Times a batch's phases for vigil_batch_phase_seconds: each from the end of the one before. */
function phaseTimer(metrics: Metrics) {
  const t0 = process.hrtime.bigint();
  let lapAt = t0;
  return {
    lap(phase: BatchPhase): void {
      const t = process.hrtime.bigint();
      metrics.batchPhase(phase, Number(t - lapAt) / 1e9);
      lapAt = t;
    },
    /** Seconds since the batch began. */
    total: (): number => Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

export function createProcessor(d: ProcessorDeps): Processor {
  const hot = new HotSessions();
  const now = d.now ?? (() => Date.now());
  const idleMs = d.config.hotIdleSeconds * 1000;
  // Partitions with a batch in flight: the idle sweep leaves their sessions alone.
  const busy = new Set<number>();
  const rebuilding = new Map<number, Rebuild>();
  let sweeper: NodeJS.Timeout | undefined;
  // When the broker last answered a fetch (kafkajs fetches every maxWaitTimeInMs even when idle).
  let lastFetch = 0;
  const fetchFreshMs = Math.max(15_000, d.config.kafka.sessionTimeoutMs);
  let joined = false;
  let batches = 0;
  let lastBatchError: string | undefined;
  const commits = new OffsetCommits(d.consumer, d.log);
  let stopping = false;
  const dropHot = () => {
    hot.clear();
    rebuilding.clear();
  };

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
      hot.forget(batch.partition);
      lastBatchError = e instanceof Error ? e.message : String(e);
      d.log.error("batch failed; it will be retried from the last committed offset", { partition: batch.partition, error: lastBatchError });
      throw e;
    } finally {
      busy.delete(batch.partition);
    }
  }

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset } = payload;
    const phases = phaseTimer(d.metrics);
    const { topic, partition } = batch;
    const policy = d.policy();

    // 1. Decode.
    const decoded = await decodeBatch(d, policy, topic, batch.messages);
    phases.lap("decode");
    const b: BatchContext = { topic, partition, policy, ...hot.open(partition) };

    // 2. Rebuild lost state first, when a gap was found.
    let todo: { inputs: readonly BatchInput[]; messages: readonly KafkaMessage[]; startsState: boolean } | undefined = {
      inputs: decoded,
      messages: batch.messages,
      startsState: false,
    };
    const rebuild = rebuilding.get(partition);
    if (rebuild !== undefined) todo = await rebuildFromLog(d, b, rebuilding, rebuild, decoded, batch.messages, payload, now);
    if (todo === undefined) return;

    // 3. Decide.
    const result = await processBatch(policy, d.state, b.cache.sessions, { topic, partition }, todo.inputs, judgeOptions(d));
    phases.lap("decide");
    const first = (todo.inputs[0] as BatchInput).offset;
    // Not again right after a rebuild: offsets without records (transaction markers) would look like a gap forever.
    const gap = rebuild === undefined ? stateGap(result.stateThrough, first) : undefined;
    if (gap) {
      // The state lacks events this group already committed past: re-read them first.
      rebuilding.set(partition, { until: BigInt(first), fresh: result.stateThrough === undefined });
      hot.forget(partition);
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

    // 4. Publish commands, statuses, audit records and dead letters.
    const rejected = deadLetters(result, todo.messages, partition);
    await heartbeat();
    await publishBatch(d.producer, d.config, d.encoder, d.signer, result, rejected);
    phases.lap("publish");

    // 5. Persist. The position is created only by a batch that starts where the state starts (a new log).
    const last = todo.messages[todo.messages.length - 1] as KafkaMessage;
    await d.state.persist({
      ...result.changes,
      log: { topic, partition, through: last.offset, create: result.stateThrough === undefined && (first === "0" || todo.startsState) },
    });
    const wall = now();
    keepHot(b.cache, result.changes.sessions, wall, idleMs);
    b.keep();
    phases.lap("persist");

    // 6. Commit. It does not hold up the next batch (it is not needed for it: the state is
    // persisted); commits go out one at a time, in order, and a stop waits for them.
    resolveOffset(last.offset);
    const committed = commits.commit({ topic, partition, offset: (BigInt(last.offset) + 1n).toString() });
    if (stopping) await committed;
    phases.lap("commit");

    // 7. Report.
    report(d, batch, result, rejected, last.offset, wall, phases.total());
    batches++;
    lastBatchError = undefined;
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
      sweeper = setInterval(() => hot.sweep(now() - idleMs, busy), Math.min(idleMs, 30_000));
      sweeper.unref();
    },
    async stop() {
      clearInterval(sweeper);
      // kafkajs finishes the batch in flight (which, stopping, waits for its commit) before disconnecting.
      stopping = true;
      await commits.inFlight;
      await d.consumer.disconnect();
      await d.producer.disconnect();
      joined = false;
    },
    activeSessions: () => hot.active(),
    health: () => ({ joined, fetching: now() - lastFetch <= fetchFreshMs, batches, ...(lastBatchError ? { lastBatchError } : {}) }),
  };
}
