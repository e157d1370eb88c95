import type { AgentEvent } from "../protocol/index.js";
import { anyGlob } from "../protocol/index.js";
import type { CompiledPolicy } from "../core/index.js";

// Who may speak for a session (policy `authenticity`, docs/security.md). The adapter reads
// the producer from the record: its self-declared `vigil-producer` header, and, when the
// policy asks for signatures, the outcome of verifying its `vigil-jws` header against the
// trusted producer keys. An event of a governed type from anyone else is not decided: it is
// dead-lettered as `unauthenticated`, so a forged `action.result` cannot put words in a
// session's tool outputs, and a forger cannot get a victim's session restricted either.

export interface ProducerEvidence {
  /** The `vigil-producer` header, if any. */
  readonly claimed?: string | undefined;
  /** The producer signature: verified (its key id), refused (why), or absent (undefined). */
  readonly signature?: { readonly ok: true; readonly kid: string } | { readonly ok: false; readonly reason: string; readonly detail: string } | undefined;
}

/** Why the event may not be decided under the policy, or undefined when it may. */
export function unauthenticated(policy: CompiledPolicy, event: AgentEvent, producer: ProducerEvidence): string | undefined {
  const rule = policy.authenticity;
  if (!rule || !rule.types.has(event.type)) return undefined;
  const what = `${event.type} event ${event.eventId} for session ${event.sessionId}`;
  if (rule.require === "producer") {
    if (producer.claimed === undefined || producer.claimed === "") return `${what}: no vigil-producer header (policy authenticity.require: producer)`;
    return anyGlob(rule.producers, producer.claimed) ? undefined : `${what}: producer "${producer.claimed.slice(0, 256)}" is not among authenticity.producers`;
  }
  const s = producer.signature;
  if (s === undefined) return `${what}: unsigned (policy authenticity.require: signature)`;
  if (!s.ok) return `${what}: producer signature refused (${s.reason}: ${s.detail})`;
  return anyGlob(rule.producers, s.kid) ? undefined : `${what}: signed by key "${s.kid}", which is not among authenticity.producers`;
}
