import type { Consumer, Producer } from "kafkajs";
import type { ReviewDecidedEvent } from "../../protocol/index.js";
import { PRODUCER_HEADER, SIGNATURE_HEADER } from "../../protocol/signature.js";
import type { RecordKey, RecordVerifier } from "../../codec/record-jws.js";
import type { Logger } from "../logger.js";

// Verdicts on the wire. The review API and CLI publish each verdict to vigil.reviews, signed
// for that topic (`vigil-jws`). The processor carries every verified verdict into the
// session's events (vigil.events, same key, the same bytes and signature), so it is decided
// in the session's order, replayed with it, and rebuilt with it. The events pipeline checks
// the signature again there: a verdict written straight to vigil.events by someone without
// the key is refused (dead-lettered as unauthenticated).

export const REVIEW_PRODUCER = "vigil-review";

/** Publishes one verdict to the reviews topic, signed. */
export function verdictPublisher(producer: Producer, topic: string, key: RecordKey): (verdict: ReviewDecidedEvent) => Promise<void> {
  return async (verdict) => {
    const value = Buffer.from(JSON.stringify(verdict), "utf8");
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: verdict.sessionId, value, headers: { [SIGNATURE_HEADER]: await key.sign(topic, value), [PRODUCER_HEADER]: REVIEW_PRODUCER } }],
    });
  };
}

export interface BridgeDeps {
  readonly consumer: Consumer;
  readonly producer: Producer;
  readonly reviewsTopic: string;
  readonly eventsTopic: string;
  readonly verify: RecordVerifier;
  readonly log: Logger;
  /** Counts each verdict read: `carried` into the events, or `refused` (its signature did not verify). */
  readonly counted: (outcome: "carried" | "refused") => void;
}

/** Runs the reviews → events bridge until the consumer stops. At least once: a repeat is dropped by the session's event-id window. */
export async function runVerdictBridge(d: BridgeDeps): Promise<void> {
  await d.consumer.subscribe({ topics: [d.reviewsTopic], fromBeginning: true });
  await d.consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value ?? Buffer.alloc(0);
      const verified = await d.verify(d.reviewsTopic, value, message.headers);
      if (!verified.ok) {
        d.counted("refused");
        d.log.warn("verdict refused: not signed by the review service", { offset: message.offset, reason: verified.reason, detail: verified.detail });
        return;
      }
      const signature = message.headers?.[SIGNATURE_HEADER];
      await d.producer.send({
        topic: d.eventsTopic,
        acks: -1,
        messages: [
          {
            key: message.key,
            value,
            headers: { [SIGNATURE_HEADER]: (Array.isArray(signature) ? signature[0] : signature) ?? "", [PRODUCER_HEADER]: REVIEW_PRODUCER },
          },
        ],
      });
      d.counted("carried");
    },
  });
}
