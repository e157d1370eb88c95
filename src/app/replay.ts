import type { Command } from "../protocol/index.js";
import type { DecisionRecord } from "../core/index.js";
import type { Pipeline } from "./pipeline.js";
import type { SourceLine } from "./line-decoder.js";
import { decodeLine } from "./line-decoder.js";

// Offline replay (CONTRACT.md section 3): the live decision pipeline over JSONL files with
// in-memory state. Bad lines are reported with file and line, counted and skipped.

export interface ReplaySummary {
  linesRead: number;
  events: number;
  duplicates: number;
  sessions: number;
  rejected: number;
  commands: Record<string, number>;
  rejections: { file: string; line: number; error: string }[];
}

export interface ReplayHooks {
  onCommand(command: Command): void;
  onReject?(rejection: { file: string; line: number; error: string }): void;
  onDecision?(decision: DecisionRecord, raw: Record<string, unknown>): void;
}

export const MAX_REPORTED_REJECTIONS = 1000;

export async function replay(lines: AsyncIterable<SourceLine> | Iterable<SourceLine>, pipeline: Pipeline, hooks: ReplayHooks): Promise<ReplaySummary> {
  const sessions = new Set<string>();
  const summary: ReplaySummary = { linesRead: 0, events: 0, duplicates: 0, sessions: 0, rejected: 0, commands: {}, rejections: [] };
  for await (const { file, line, text } of lines) {
    summary.linesRead++;
    const decoded = decodeLine(text);
    if (decoded.ok === "blank") continue;
    if (decoded.ok === false) {
      summary.rejected++;
      const rejection = { file, line, error: decoded.error };
      if (summary.rejections.length < MAX_REPORTED_REJECTIONS) summary.rejections.push(rejection);
      hooks.onReject?.(rejection);
      continue;
    }
    let out: ReturnType<Pipeline["handle"]>;
    try {
      out = await pipeline.handleAsync(decoded.event);
    } catch (e) {
      summary.rejected++;
      const rejection = { file, line, error: `processing error: ${e instanceof Error ? e.message : String(e)}` };
      if (summary.rejections.length < MAX_REPORTED_REJECTIONS) summary.rejections.push(rejection);
      hooks.onReject?.(rejection);
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
