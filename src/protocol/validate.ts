import type { z } from "zod";
import { AgentEvent, MAX_OUTPUT_TEXT } from "./event.js";
import type { DlqReason } from "./dlq.js";

// Validation returns data; only the edge throws (docs/style.md, rule 9).

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string; field: string };

/**
 * Why an event was refused, as a stable code (a DLQ header, a metric label, a replay report):
 * `output_too_large` for an `action.result` whose `output.text` is over MAX_OUTPUT_TEXT,
 * `invalid_event` for anything else the contract does not accept.
 */
export type EventRejection = Extract<DlqReason, "invalid_event" | "output_too_large">;

export type ValidatedEvent = { ok: true; value: AgentEvent } | { ok: false; error: string; field: string; reason: EventRejection };

type Issue = z.core.$ZodIssue;

/**
 * A union's issue names the member that got furthest (`source.trust: Invalid option...`
 * rather than `source: Invalid input`); when every form fails at the top, it lists them.
 */
function unionDetail(issue: Issue): { path: PropertyKey[]; message: string } {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return { path: issue.path, message: issue.message };
  const firsts = issue.errors.map((branch) => branch[0]).filter((i): i is Issue => i !== undefined);
  const deepest = firsts.reduce<Issue | undefined>((best, i) => (best === undefined || i.path.length > best.path.length ? i : best), undefined);
  if (!deepest) return { path: issue.path, message: issue.message };
  if (deepest.path.length > 0) {
    const inner = unionDetail(deepest);
    return { path: [...issue.path, ...inner.path], message: inner.message };
  }
  return { path: issue.path, message: firsts.map((i) => i.message.replace(/^Invalid input: /, "")).join("; or ") };
}

/** `action.capability: expected string, received number` — the first issue, then a count of the rest. */
export function formatIssues(error: z.ZodError): { message: string; field: string } {
  const [issue, ...rest] = error.issues;
  if (!issue) return { message: "invalid", field: "" };
  const first = unionDetail(issue);
  const field = first.path.map(String).join(".");
  const text = first.message.replace(/^Invalid input: /, "");
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? "s" : ""})` : "";
  return { message: `${field === "" ? "event" : field}: ${text}${more}`, field };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The length of an `action.result`'s `output.text` when it is over MAX_OUTPUT_TEXT, else
 * undefined. Reads one length (the text itself is never scanned), so it costs the same for
 * any size; checked before the schema so an oversized output gets its own reason.
 */
export function oversizedOutputText(raw: unknown): number | undefined {
  if (!isObject(raw) || raw.type !== "action.result" || !isObject(raw.output)) return undefined;
  const text = raw.output.text;
  return typeof text === "string" && text.length > MAX_OUTPUT_TEXT ? text.length : undefined;
}

export function validateEvent(raw: unknown): ValidatedEvent {
  if (!isObject(raw)) return { ok: false, error: "event: expected a JSON object", field: "", reason: "invalid_event" };
  const type = raw.type;
  if (typeof type === "string" && !AgentEvent.options.some((o) => o.shape.type.value === type)) {
    return { ok: false, error: `type: unknown event type "${type}"`, field: "type", reason: "invalid_event" };
  }
  const length = oversizedOutputText(raw);
  if (length !== undefined) {
    return {
      ok: false,
      error: `output.text: ${length} characters, over the limit of ${MAX_OUTPUT_TEXT}; send at most ${MAX_OUTPUT_TEXT} with output.truncated: true and the full size in output.bytes`,
      field: "output.text",
      reason: "output_too_large",
    };
  }
  const parsed = AgentEvent.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const { message, field } = formatIssues(parsed.error);
  return { ok: false, error: message, field, reason: "invalid_event" };
}
