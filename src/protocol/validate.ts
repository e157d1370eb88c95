import type { z } from "zod";
import { AgentEvent } from "./event.js";

// Validation returns data; only the edge throws (STYLE.md, rule 9).

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string; field: string };

/** `action.capability: expected string, received number` — the first issue, then a count of the rest. */
export function formatIssues(error: z.ZodError): { message: string; field: string } {
  const [first, ...rest] = error.issues;
  if (!first) return { message: "invalid", field: "" };
  const field = first.path.map(String).join(".");
  const text = first.message.replace(/^Invalid input: /, "");
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? "s" : ""})` : "";
  return { message: `${field === "" ? "event" : field}: ${text}${more}`, field };
}

export function validateEvent(raw: unknown): Validated<AgentEvent> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, error: "event: expected a JSON object", field: "" };
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type === "string" && !AgentEvent.options.some((o) => o.shape.type.value === type)) {
    return { ok: false, error: `type: unknown event type "${type}"`, field: "type" };
  }
  const parsed = AgentEvent.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const { message, field } = formatIssues(parsed.error);
  return { ok: false, error: message, field };
}
