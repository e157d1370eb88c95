import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from "kafkajs";
import type { CompiledPolicy } from "../../core/index.js";
import type { BatchInput } from "../../app/batch-processor.js";
import { processBatch } from "../../app/batch-processor.js";
import type { Judge } from "../../app/judge.js";
import { withBudget } from "../../app/judge.js";
import { systemClock } from "../clock.js";
import type { DurableState, SessionSnapshot } from "../../app/durable-state.js";
import type { Metrics } from "../../app/metrics.js";
import type { Config } from "../../config/config.js";
import type { Logger } from "../logger.js";
import type { AvroRegistry } from "./event-decoder.js";
import { decodeEvent } from "./event-decoder.js";
import type { OutputEncoder, RejectedMessage } from "./output.js";
import type { RecordSigner } from "../signing.js";
import type { RecordVerifier } from "../record-jws.js";
import { unauthenticated } from "../../app/authenticity.js";
import { PRODUCER_HEADER } from "../../protocol/signature.js";
import { publishBatch } from "./output.js";

// The live processor: a consumer group on vigil.events, one batch at a time per partition.
// Order per batch: decode → decide → publish (acks=all) → persist state (MULTI) → commit.
// A crash anywhere re-delivers from the last commit; deterministic command ids and
// per-session snapshot offsets make the re-run publish the same command ids and apply
// nothing twice. A failing batch (Redis or broker down) throws: kafkajs backs off and
// retries it from the same offset, and /readyz reports not ready meanwhile.

export const HOT_SESSIONS_PER_PARTITION = 50_000;

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
  /** Verifies producer signatures on events against VIGIL_PRODUCER_KEYS_FILE (policy `authenticity.require: signature`). */
  readonly verifyProducer?: RecordVerifier;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now?: () => number;
  /** The optional judge for uncertain calls (off unless VIGIL_JUDGE_URL is set). */
  readonly judge?: Judge;
}

export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): { joined: boolean; lastBatchError?: string; batches: number };
  /** Hot sessions that are neither ended nor revoked (computed when asked: off the hot path). */
  activeSessions(): number;
}

export function createProcessor(d: ProcessorDeps): Processor {
  const hot = new Map<number, Map<string, SessionSnapshot>>();
  const now = d.now ?? (() => Date.now());
  let joined = false;
  let batches = 0;
  let lastBatchError: string | undefined;
  // Bumped whenever the hot cache is dropped, so a batch still in flight across a
  // rebalance does not put its (possibly stale) sessions back.
  let generation = 0;
  const dropHot = () => {
    generation++;
    hot.clear();
  };

  async function decode(m: KafkaMessage): Promise<BatchInput> {
    const decoded = await decodeEvent(m.value, d.config.maxMessageBytes, d.registry);
    return decoded.ok
      ? { offset: m.offset, ok: true, event: decoded.event, format: decoded.format }
      : { offset: m.offset, ok: false, reason: decoded.reason, error: decoded.error };
  }

  /** The decoded event, or a DLQ input when the policy's `authenticity` does not accept its producer. */
  async function authenticated(policy: CompiledPolicy, topic: string, m: KafkaMessage, input: BatchInput): Promise<BatchInput> {
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

  async function eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const t0 = process.hrtime.bigint();
    const partition = batch.partition;
    try {
      const policy = d.policy();
      const decoded: BatchInput[] = [];
      for (const m of batch.messages) decoded.push(await decode(m));
      // Producer signatures, when the policy asks for them, are checked for the whole batch at once.
      const inputs = policy.authenticity
        ? await Promise.all(batch.messages.map((m, i) => authenticated(policy, batch.topic, m, decoded[i] as BatchInput)))
        : decoded;
      const startedIn = generation;
      const cache = hot.get(partition) ?? new Map<string, SessionSnapshot>();
      // The judge gets at most a third of the session timeout per batch, less one question's
      // own timeout: a dead judge costs latency, never the partition.
      const judging = d.judge
        ? {
            judge: {
              judge: withBudget(d.judge, Math.max(0, d.config.kafka.sessionTimeoutMs / 3 - (d.config.judge?.timeoutMs ?? 0)), systemClock),
              clock: systemClock,
              onJudged: (outcome: string, seconds: number) => d.metrics.judged(outcome, seconds),
            },
          }
        : {};
      const result = await processBatch(policy, d.state, cache, { topic: batch.topic, partition }, inputs, judging);
      // Undecodable, invalid and failed events: the original message to the DLQ.
      const byOffset = result.rejected.length > 0 ? new Map(batch.messages.map((m) => [m.offset, m])) : undefined;
      const rejected: RejectedMessage[] = result.rejected.map((r) => {
        const m = byOffset?.get(r.offset);
        return { key: m?.key ?? null, value: m?.value ?? null, headers: m?.headers, partition, offset: r.offset, reason: r.reason, error: r.error };
      });
      await heartbeat();
      await publishBatch(d.producer, d.config, d.encoder, d.signer, result, rejected);
      await d.state.persist(result.changes);
      for (const s of result.changes.sessions) {
        // Ended and revoked sessions rarely come back: keep them in Redis only.
        cache.delete(s.state.sessionId);
        if (!s.state.ended && !s.state.enforcement.revoked) cache.set(s.state.sessionId, s);
      }
      // Bounded: beyond the cap the least recently written sessions fall back to Redis.
      for (const id of cache.keys()) {
        if (cache.size <= HOT_SESSIONS_PER_PARTITION) break;
        cache.delete(id);
      }
      if (generation === startedIn) hot.set(partition, cache);
      const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
      await d.consumer.commitOffsets([{ topic: batch.topic, partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      resolveOffset(last.offset);

      const wall = now();
      for (const p of result.processed) {
        d.metrics.eventProcessed(p.type, p.format);
        if (p.result) d.metrics.actionResult(p.result);
      }
      for (const r of rejected) d.metrics.eventRejected(r.reason);
      for (const c of result.commands) {
        d.metrics.commandIssued(c.type, c.reasons[0]?.code ?? "none");
        d.metrics.eventTimeToCommand((wall - Date.parse(c.time)) / 1000);
      }
      for (const a of result.audits) {
        d.metrics.decision(a.level);
        for (const s of a.signals) d.metrics.signal(s.code.split(".")[0] ?? "unknown", s.weight);
      }
      for (const s of result.statuses) d.metrics.riskScore(s.riskScore);
      if (result.alreadyApplied > 0) d.metrics.alreadyApplied(result.alreadyApplied);
      d.metrics.consumerLag(batch.topic, partition, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
      d.metrics.batch(Number(process.hrtime.bigint() - t0) / 1e9, batch.messages.length);
      batches++;
      lastBatchError = undefined;
      if (rejected.length > 0) d.log.warn("events dead-lettered", { partition, count: rejected.length, reasons: [...new Set(rejected.map((r) => r.reason))] });
    } catch (e) {
      lastBatchError = e instanceof Error ? e.message : String(e);
      d.log.error("batch failed; it will be retried from the last committed offset", { partition, error: lastBatchError });
      throw e;
    }
  }

  return {
    async start() {
      const { GROUP_JOIN, REBALANCING, CRASH, STOP } = d.consumer.events;
      d.consumer.on(GROUP_JOIN, (e) => {
        joined = true;
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
      });
      d.consumer.on(STOP, () => {
        joined = false;
      });
      await d.consumer.connect();
      await d.producer.connect();
      await d.consumer.subscribe({ topics: [d.config.topics.events], fromBeginning: true });
      await d.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
    },
    async stop() {
      // kafkajs finishes the batch in flight (which commits after persisting) before disconnecting.
      await d.consumer.disconnect();
      await d.producer.disconnect();
      joined = false;
    },
    activeSessions() {
      let active = 0;
      for (const c of hot.values()) for (const s of c.values()) if (!s.state.ended && !s.state.enforcement.revoked) active++;
      return active;
    },
    health: () => ({ joined, batches, ...(lastBatchError ? { lastBatchError } : {}) }),
  };
}
