import client from "prom-client";
import type { Metrics } from "../app/metrics.js";
import type { SsfMetrics } from "../app/ssf.js";

// prom-client metrics, Prometheus naming: vigil_ prefix, _total counters, _seconds
// histograms, bounded labels (never a session id). Listed in docs/metrics.md.

/** Gauges read when Prometheus scrapes, not on the hot path. */
export interface ScrapeSources {
  reviews(): Promise<number>;
  activeSessions(): number;
}

export function promMetrics(registry: client.Registry, sources: ScrapeSources = { reviews: async () => 0, activeSessions: () => 0 }): Metrics {
  client.collectDefaultMetrics({ register: registry, prefix: "vigil_process_" });
  const r = [registry];
  const events = new client.Counter({
    name: "vigil_events_processed_total",
    help: "Events decided, by type and wire format",
    labelNames: ["type", "format"],
    registers: r,
  });
  const rejected = new client.Counter({
    name: "vigil_events_dlq_total",
    help: "Events sent to the dead-letter topic, by reason",
    labelNames: ["reason"],
    registers: r,
  });
  const commands = new client.Counter({
    name: "vigil_commands_total",
    help: "Commands issued, by type and leading reason code",
    labelNames: ["type", "reason"],
    registers: r,
  });
  const decisions = new client.Counter({
    name: "vigil_decisions_total",
    help: "Decisions by resulting level (alert = scored, nothing changed)",
    labelNames: ["level"],
    registers: r,
  });
  const risk = new client.Histogram({
    name: "vigil_risk_score",
    help: "Session risk score after each event",
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: r,
  });
  const applied = new client.Counter({
    name: "vigil_events_already_applied_total",
    help: "Re-delivered events skipped because their session snapshot already reflects them",
    registers: r,
  });
  const rebuilt = new client.Counter({
    name: "vigil_state_rebuilt_events_total",
    help: "Events re-read from the log to rebuild processing state that Redis lost",
    registers: r,
  });
  const verdicts = new client.Counter({
    name: "vigil_review_verdicts_total",
    help: "Verdicts read from vigil.reviews: carried into the session's events, or refused (not signed by the review service)",
    labelNames: ["outcome"],
    registers: r,
  });
  const feedback = new client.Counter({
    name: "vigil_review_feedback_total",
    help: "Findings a reviewer's overturn softened for an agent and capability, by finding code",
    labelNames: ["code"],
    registers: r,
  });
  const batchSeconds = new client.Histogram({
    name: "vigil_batch_duration_seconds",
    help: "Time to process one batch (load, decide, publish, persist, commit)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: r,
  });
  const batchPhase = new client.Histogram({
    name: "vigil_batch_phase_seconds",
    help: "Time of one phase of a batch: decode, decide (state load included), publish, persist, commit",
    labelNames: ["phase"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: r,
  });
  const batchSize = new client.Histogram({ name: "vigil_batch_size", help: "Messages per batch", buckets: [1, 10, 50, 100, 500, 1000, 5000], registers: r });
  const redis = new client.Histogram({
    name: "vigil_redis_duration_seconds",
    help: "Redis round trips, by operation",
    labelNames: ["op"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: r,
  });
  const toCommand = new client.Histogram({
    name: "vigil_event_to_command_seconds",
    help: "Wall time from the triggering event's time to the command's publication",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: r,
  });
  const lag = new client.Gauge({
    name: "vigil_consumer_lag",
    help: "Messages behind the partition's high watermark at the last batch",
    labelNames: ["topic", "partition"],
    registers: r,
  });
  const policy = new client.Gauge({
    name: "vigil_policy_info",
    help: "The loaded policy (value 1), by version and source",
    labelNames: ["version", "source"],
    registers: r,
  });
  const signals = new client.Histogram({
    name: "vigil_signal_weight",
    help: "Weight of each drift finding, by scorer family",
    labelNames: ["scorer"],
    buckets: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: r,
  });
  new client.Gauge({
    name: "vigil_sessions_active",
    help: "Sessions held in this process that are neither ended nor revoked",
    registers: r,
    collect() {
      this.set(sources.activeSessions());
    },
  });
  new client.Gauge({
    name: "vigil_sessions_under_review",
    help: "Sessions held for a person's review (the Redis review queue)",
    registers: r,
    async collect() {
      this.set(await sources.reviews().catch(() => 0));
    },
  });
  const enforce = new client.Histogram({
    name: "vigil_time_to_enforce_seconds",
    help: "From a command's publication to an enforcement point applying it (vigil.acks)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: r,
  });
  const policyRejected = new client.Counter({
    name: "vigil_policy_reload_rejected_total",
    help: "Policy reloads rejected as invalid (the previous policy stays)",
    registers: r,
  });
  const judged = new client.Histogram({
    name: "vigil_judge_seconds",
    help: "Questions put to the optional judge, by outcome (drift, aligned, unanswered), and how long each took",
    labelNames: ["outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: r,
  });
  const results = new client.Counter({
    name: "vigil_action_results_total",
    help: "Tool results (action.result) decided, by outcome and by the source's trust label (none when absent)",
    labelNames: ["outcome", "trust"],
    registers: r,
  });
  // Powers of 4 from 256 B to 64 MiB: the 64 Ki-character text limit sits mid-range, and
  // `bytes` (the full output, before any cut) can be far larger.
  const outputBytes = new client.Histogram({
    name: "vigil_action_result_output_bytes",
    help: "Full size of each tool output in bytes (output.bytes, else the text's UTF-8 size)",
    buckets: [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864],
    registers: r,
  });
  const truncated = new client.Counter({
    name: "vigil_action_results_truncated_total",
    help: "Tool results whose text the sender cut (output.truncated)",
    registers: r,
  });
  const toolFindings = new client.Counter({
    name: "vigil_mcp_tool_findings_total",
    help: "Findings on sessions' MCP tool definitions (poisoning, changed, shadowing), by reason code and the policy's action (hold, hide, report)",
    labelNames: ["code", "action"],
    registers: r,
  });
  return {
    mcpToolFinding: (code, action) => toolFindings.inc({ code, action }),
    actionResult: (x) => {
      results.inc({ outcome: x.outcome, trust: x.trust });
      outputBytes.observe(x.bytes);
      if (x.truncated) truncated.inc();
    },
    eventProcessed: (type, format) => events.inc({ type, format }),
    eventRejected: (reason) => rejected.inc({ reason }),
    commandIssued: (type, reason) => commands.inc({ type, reason }),
    decision: (level) => decisions.inc({ level }),
    riskScore: (score) => risk.observe(score),
    alreadyApplied: (n) => applied.inc(n),
    stateRebuilt: (n) => rebuilt.inc(n),
    verdict: (outcome) => verdicts.inc({ outcome }),
    feedback: (code) => feedback.inc({ code }),
    batch: (seconds, size) => {
      batchSeconds.observe(seconds);
      batchSize.observe(size);
    },
    batchPhase: (phase, seconds) => batchPhase.observe({ phase }, Math.max(0, seconds)),
    redisRoundTrip: (op, seconds) => redis.observe({ op }, seconds),
    eventTimeToCommand: (seconds) => toCommand.observe(Math.max(0, seconds)),
    consumerLag: (topic, partition, value) => lag.set({ topic, partition: String(partition) }, value),
    policyLoaded: (version, source) => {
      policy.reset();
      policy.set({ version, source }, 1);
    },
    policyRejected: () => policyRejected.inc(),
    signal: (family, weight) => signals.observe({ scorer: family }, weight),
    timeToEnforce: (seconds) => enforce.observe(Math.max(0, seconds)),
    judged: (outcome, seconds) => judged.observe({ outcome }, Math.max(0, seconds)),
  };
}

/** The SSF transmitter's metrics (registered only when receivers are configured). */
export function promSsfMetrics(registry: client.Registry, queued: () => Promise<number>): SsfMetrics & { commandRefused(reason: string): void } {
  const r = [registry];
  const sets = new client.Counter({
    name: "vigil_ssf_sets_total",
    help: "SETs written to a stream's outbox (queued), dropped as a re-read command's repeat (duplicate) or for a full outbox (dropped), by kind",
    labelNames: ["outcome", "kind"],
    registers: r,
  });
  const deliveries = new client.Counter({
    name: "vigil_ssf_deliveries_total",
    help: "SET deliveries: pushed, push_failed (retried), push_rejected (the receiver refused it), polled, acknowledged, poll_error",
    labelNames: ["outcome"],
    registers: r,
  });
  const refused = new client.Counter({
    name: "vigil_ssf_commands_refused_total",
    help: "Records on the commands topic that became no SET: not signed by the processor's keys, or unreadable",
    labelNames: ["reason"],
    registers: r,
  });
  new client.Gauge({
    name: "vigil_ssf_outbox_sets",
    help: "SETs waiting in all streams' outboxes (read from Redis at scrape)",
    registers: r,
    async collect() {
      this.set(await queued().catch(() => 0));
    },
  });
  return {
    set: (outcome, kind) => sets.inc({ outcome, kind }),
    delivery: (outcome, n = 1) => deliveries.inc({ outcome }, n),
    commandRefused: (reason) => refused.inc({ reason }),
  };
}
