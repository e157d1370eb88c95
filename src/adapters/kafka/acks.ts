import type { Consumer } from "kafkajs";
import type { Logger } from "../logger.js";

// Time-to-enforce: enforcement points acknowledge each command they applied on vigil.acks
// (`{ commandId, publishedAt, appliedAt, ... }`, docs/contract.md); this consumer turns each
// acknowledgement into one observation of applied − published. Its own group, joined in the
// background: after a crash it must not hold up the restart while its dead predecessor's
// session runs out. An unreadable record is logged and skipped.

export interface AcksFeed {
  readonly consumer: Consumer;
  readonly topic: string;
  /** One command's seconds from publication to being applied. */
  readonly observed: (seconds: number) => void;
  readonly log: Logger;
}

/**
 * Connects and subscribes, then runs the consumer without waiting for it to join its group
 * (that can take a session timeout): `running` rejects if it stops for good.
 */
export async function startAcksFeed(f: AcksFeed): Promise<{ running: Promise<void> }> {
  await f.consumer.connect();
  await f.consumer.subscribe({ topics: [f.topic], fromBeginning: false });
  const running = f.consumer.run({
    eachMessage: async ({ message }) => {
      try {
        const a = JSON.parse(message.value?.toString("utf8") ?? "{}") as { publishedAt?: string; appliedAt?: string };
        const seconds = (Date.parse(a.appliedAt ?? "") - Date.parse(a.publishedAt ?? "")) / 1000;
        if (Number.isFinite(seconds)) f.observed(seconds);
      } catch {
        f.log.warn("unreadable acknowledgement on the acks topic", { offset: message.offset });
      }
    },
  });
  return { running };
}
