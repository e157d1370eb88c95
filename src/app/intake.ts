import type { AgentEvent, EventRejection } from "../protocol/index.js";
import { PRODUCER_HEADER } from "../protocol/signature.js";
import { validateEvent } from "../protocol/index.js";
import type { CompiledPolicy } from "../core/index.js";
import { unauthenticated } from "./authenticity.js";

// The HTTP event intake (`POST /v1/events`, docs/doors.md): one event or a JSON array of
// them, in the contract's JSON, checked exactly as the events topic checks them (the zod
// schema, then the policy's authenticity rule with the caller's authenticated name as the
// producer) and published to the events topic only when every one of them passed: a
// request is taken whole or not at all. The HTTP side (auth, body cap, rate limit) is
// adapters/doors-http.ts.

/** Events one request may carry. */
export const MAX_INTAKE_EVENTS = 1000;

export interface IntakeRecord {
  readonly key: string;
  /** The id the partition is chosen by: the principal's (sdk/partitioner.ts). */
  readonly partitionKey: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The record of one event on the events topic, as every door writes it: keyed by session,
 * partitioned by principal, the `vigil-producer` header naming who sent it. `body` is what
 * goes on the wire (default: the event; the intake writes what the caller sent).
 */
export const eventRecord = (event: AgentEvent, producer: string, body: unknown = event): IntakeRecord => ({
  key: event.sessionId,
  partitionKey: event.principal.id,
  value: JSON.stringify(body),
  headers: { [PRODUCER_HEADER]: producer },
});

export interface IntakePorts {
  /** Writes the records to the events topic; resolves once Kafka has all of them. */
  send(records: readonly IntakeRecord[]): Promise<void>;
  policy(): CompiledPolicy;
}

/** Why the intake refuses a request: the event's rejection (as the processor would dead-letter it), its authenticity, or the batch's size. */
export type IntakeErrorCode = EventRejection | "unauthenticated" | "too_many_events";

/** A request the intake refuses: 400 (invalid, naming index and field), 403 (authenticity), 413 (too many events). */
export class IntakeError extends Error {
  constructor(
    readonly status: 400 | 403 | 413,
    readonly code: IntakeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function createIntake(ports: IntakePorts) {
  return {
    /** Checks and publishes the events of `body` for `producer` (the caller's authenticated name); returns how many. */
    async accept(body: unknown, producer: string): Promise<{ accepted: number; eventIds: string[] }> {
      const many = Array.isArray(body);
      const raw: unknown[] = many ? body : [body];
      if (raw.length === 0) throw new IntakeError(400, "invalid_event", "body: an empty array (send one event or a non-empty array)");
      if (raw.length > MAX_INTAKE_EVENTS)
        throw new IntakeError(413, "too_many_events", `body: ${raw.length} events, over the limit of ${MAX_INTAKE_EVENTS} per request`);
      const policy = ports.policy();
      const events: { event: AgentEvent; raw: unknown }[] = [];
      for (const [i, r] of raw.entries()) {
        const at = many ? `[${i}].` : "";
        const v = validateEvent(r);
        if (!v.ok) throw new IntakeError(400, v.reason, `${at}${v.error}`);
        // A verdict counts only signed by a reviewer, on the reviews topic (docs/review.md): here it would be dead-lettered.
        if (v.value.type === "review.decided")
          throw new IntakeError(400, "invalid_event", `${at}type: review.decided events come from the review API (POST /api/review/…), not the intake`);
        const why = unauthenticated(policy, v.value, { claimed: producer });
        if (why !== undefined) throw new IntakeError(403, "unauthenticated", `${at.replace(/\.$/, ": ")}${why}`);
        events.push({ event: v.value, raw: r });
      }
      // The topic gets what the caller sent (fields the schema does not know included), as a Kafka producer would have written it.
      await ports.send(events.map(({ event, raw: r }) => eventRecord(event, producer, r)));
      return { accepted: events.length, eventIds: events.map(({ event }) => event.eventId) };
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;
