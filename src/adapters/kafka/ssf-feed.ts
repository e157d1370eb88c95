import type { Consumer } from "kafkajs";
import { Command } from "../../protocol/command.js";
import type { PublishedCommand } from "../../app/ssf.js";
import { commandFromAvro, readRecordValue } from "../../codec/avro-codec.js";
import type { RecordVerifier } from "../../codec/record-jws.js";
import type { Logger } from "../logger.js";

// vigil.commands → the SSF outboxes. A consumer group of its own reads every command the
// processor published, checks its signature (a command written to the topic by anyone else
// becomes no SET: the transmitter would sign it as Vigil), and hands each batch to the
// transmitter, which writes the SETs to Redis. The batch's offsets are committed only after
// that, so a crash re-reads it; the SETs' fixed jti drops the repeats.

export interface SsfFeedDeps {
  readonly consumer: Consumer;
  readonly topic: string;
  readonly verify: RecordVerifier;
  /** Decodes Confluent wire-format Avro (when the processor writes Avro). */
  readonly registry?: { decode(buffer: Buffer): Promise<unknown> } | undefined;
  readonly onCommands: (commands: readonly PublishedCommand[]) => Promise<void>;
  /** A record that is no command Vigil signed: its reason (`unsigned`, `tampered`, …, or `unreadable`). */
  readonly refused: (reason: string) => void;
  readonly log: Logger;
}

export async function runSsfFeed(d: SsfFeedDeps): Promise<void> {
  // From the beginning on the group's first start: a command published before the group
  // joined is not skipped (the transmitter gives each stream only what was published after
  // the stream was created).
  await d.consumer.subscribe({ topics: [d.topic], fromBeginning: true });
  await d.consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
      const verdicts = await Promise.all(batch.messages.map((m) => d.verify(d.topic, m.value ?? Buffer.alloc(0), m.headers)));
      const commands: PublishedCommand[] = [];
      // Counted per record, logged once per batch: a flood of forgeries is no flood of log lines.
      const refused = new Map<string, number>();
      const refuse = (reason: string) => {
        d.refused(reason);
        refused.set(reason, (refused.get(reason) ?? 0) + 1);
      };
      for (const [i, m] of batch.messages.entries()) {
        const v = verdicts[i];
        if (v === undefined || !v.ok) {
          refuse(v?.reason ?? "unsigned");
          continue;
        }
        const parsed = Command.safeParse(await readRecordValue(m.value, d.registry, commandFromAvro));
        if (parsed.success) commands.push({ command: parsed.data, publishedAtMs: Number(m.timestamp) });
        else refuse("unreadable");
      }
      if (refused.size > 0)
        d.log.warn("SSF: command records that became no SET (not signed by this processor's keys, or unreadable)", {
          partition: batch.partition,
          refused: Object.fromEntries(refused),
        });
      await d.onCommands(commands);
      const last = batch.messages.at(-1);
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
}
