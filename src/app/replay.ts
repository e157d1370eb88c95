import type { Command, DlqReason } from "../protocol/index.js";
import type { DecisionRecord } from "../core/index.js";
import type { Pipeline } from "./pipeline.js";
import type { SourceLine } from "./line-decoder.js";
import { decodeLine } from "./line-decoder.js";

// Offline replay (docs/contract.md, offline replay): the live decision pipeline over JSONL files with
// in-memory state. Bad lines are reported with file, line and the reason code the live
// processor would dead-letter them with, counted and skipped.

/** A bad line: where, the DLQ reason code (`invalid_event`, `output_too_large`, ...) and the message naming the field. */
export interface Rejection {
  readonly file: string;
  readonly line: number;
  readonly reason: DlqReason;
  readonly error: string;
}

export interface ReplaySummary {
  linesRead: number;
  events: number;
  duplicates: number;
  sessions: number;
  rejected: number;
  /** Rejected lines by reason code, as `vigil_events_dlq_total` counts them live. */
  rejectedBy: Record<string, number>;
  commands: Record<string, number>;
  rejections: Rejection[];
}

export interface ReplayHooks {
  onCommand(command: Command): void;
  onReject?(rejection: Rejection): void;
  onDecision?(decision: DecisionRecord, raw: Record<string, unknown>): void;
}

export const MAX_REPORTED_REJECTIONS = 1000;

export async function replay(lines: AsyncIterable<SourceLine> | Iterable<SourceLine>, pipeline: Pipeline, hooks: ReplayHooks): Promise<ReplaySummary> {
  const sessions = new Set<string>();
  const summary: ReplaySummary = { linesRead: 0, events: 0, duplicates: 0, sessions: 0, rejected: 0, rejectedBy: {}, commands: {}, rejections: [] };
  const reject = (rejection: Rejection) => {
    summary.rejected++;
    summary.rejectedBy[rejection.reason] = (summary.rejectedBy[rejection.reason] ?? 0) + 1;
    if (summary.rejections.length < MAX_REPORTED_REJECTIONS) summary.rejections.push(rejection);
    hooks.onReject?.(rejection);
  };
  for await (const { file, line, text } of lines) {
    summary.linesRead++;
    const decoded = decodeLine(text);
    if (decoded.ok === "blank") continue;
    if (decoded.ok === false) {
      reject({ file, line, reason: decoded.reason, error: decoded.error });
      continue;
    }
    let out: ReturnType<Pipeline["handle"]>;
    try {
      out = await pipeline.handleAsync(decoded.event);
    } catch (e) {
      reject({ file, line, reason: "processing_error", error: `processing error: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    if (out.duplicate) {
      summary.duplicates++;
      continue;
    }
    summary.events++;
    sessions.add(decoded.event.sessionId);
    for (const c of out.commands) {
      summary.commands[c.type] = (summary.commands[c.type] ?? 0) + 1;
      hooks.onCommand(c);
    }
    if (out.decision) hooks.onDecision?.(out.decision, decoded.raw);
  }
  summary.sessions = sessions.size;
  return summary;
}
