import type { DlqReason } from "../protocol/index.js";

// The metrics the processor reports, as a narrow port (docs/style.md, rules 4 and 5): the
// prom-client adapter implements it; noopMetrics lets call sites never test `if (metrics)`.

export interface Metrics {
  eventProcessed(type: string, format: string): void;
  eventRejected(reason: DlqReason): void;
  commandIssued(type: string, reasonCode: string): void;
  decision(level: string): void;
  riskScore(score: number): void;
  alreadyApplied(n: number): void;
  /** Events re-read from the log to rebuild state Redis lost (decided again, published never). */
  stateRebuilt(n: number): void;
  /** A verdict read from vigil.reviews: `carried` into the session's events, or `refused` (not signed by the review service). */
  verdict(outcome: string): void;
  /** A finding softened for an agent by a reviewer's overturn (its code). */
  feedback(code: string): void;
  batch(seconds: number, size: number): void;
  /** One phase of a batch (BATCH_PHASES): where the live path's time goes. */
  batchPhase(phase: BatchPhase, seconds: number): void;
  redisRoundTrip(op: string, seconds: number): void;
  eventTimeToCommand(seconds: number): void;
  consumerLag(topic: string, partition: number, lag: number): void;
  policyLoaded(version: string, source: string): void;
  policyRejected(): void;
  signal(family: string, weight: number): void;
  timeToEnforce(seconds: number): void;
  /** One question put to the optional judge, by outcome (drift, aligned, unanswered). */
  judged(outcome: string, seconds: number): void;
  /** One `action.result` decided: its outcome, its trust label (`none` without one), the output's full size in bytes, whether the sender cut the text. */
  actionResult(result: ResultSummary): void;
  /** One finding on a session's MCP tool definitions: its reason code and what the policy's `mcp` section made of it (`hold`, `hide`, `report`). */
  mcpToolFinding(code: string, action: string): void;
}

/** What the metrics record of an `action.result`: bounded values only, never its text. */
export interface ResultSummary {
  readonly outcome: string;
  readonly trust: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

/** A batch's phases, in order: decode and validate (signatures included), decide (loading state from Redis and any rebuild from the log included), publish the outputs, persist the state, commit the offsets. */
export const BATCH_PHASES = ["decode", "decide", "publish", "persist", "commit"] as const;
export type BatchPhase = (typeof BATCH_PHASES)[number];

export const noopMetrics: Metrics = {
  eventProcessed: () => {},
  eventRejected: () => {},
  commandIssued: () => {},
  decision: () => {},
  riskScore: () => {},
  alreadyApplied: () => {},
  stateRebuilt: () => {},
  verdict: () => {},
  feedback: () => {},
  batch: () => {},
  batchPhase: () => {},
  redisRoundTrip: () => {},
  eventTimeToCommand: () => {},
  consumerLag: () => {},
  policyLoaded: () => {},
  policyRejected: () => {},
  signal: () => {},
  timeToEnforce: () => {},
  judged: () => {},
  actionResult: () => {},
  mcpToolFinding: () => {},
};
