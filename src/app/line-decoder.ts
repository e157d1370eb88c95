import type { AgentEvent, EventRejection } from "../protocol/index.js";
import { validateEvent } from "../protocol/index.js";

export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

export type DecodedLine =
  | { ok: true; event: AgentEvent; raw: Record<string, unknown> }
  | { ok: false; reason: "unparseable_json" | EventRejection; error: string; field: string }
  | { ok: "blank" };

/** One JSON text (a JSONL line, a Kafka message) to a validated event, or an error naming the field (never throws). */
export function decodeLine(text: string): DecodedLine {
  if (text.trim() === "") return { ok: "blank" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: "unparseable_json", error: `unparseable JSON: ${e instanceof Error ? e.message : String(e)}`, field: "" };
  }
  const v = validateEvent(raw);
  return v.ok ? { ok: true, event: v.value, raw: raw as Record<string, unknown> } : { ok: false, reason: v.reason, error: v.error, field: v.field };
}
