import type { Message, Producer, TopicMessages } from "kafkajs";
import type { Command, DlqReason, SessionStatus } from "../../protocol/index.js";
import type { BatchResult } from "../../app/batch-processor.js";
import type { Config } from "../../config/config.js";
import { commandToAvro, statusToAvro } from "../../codec/avro-codec.js";
import { SIGNATURE_HEADER } from "../../protocol/signature.js";
import type { RecordSigner } from "../signing.js";

/** Encodes commands and session statuses for the wire: JSON, or Confluent wire-format Avro through the registry. */
export interface OutputEncoder {
  command(command: Command): Promise<Buffer>;
  status(status: SessionStatus): Promise<Buffer>;
  readonly format: "json" | "avro";
}

export const jsonOutput: OutputEncoder = {
  format: "json",
  command: async (c) => Buffer.from(JSON.stringify(c)),
  status: async (s) => Buffer.from(JSON.stringify(s)),
};

export function avroOutput(registry: { encode(id: number, payload: unknown): Promise<Buffer> }, ids: { commands: number; status: number }): OutputEncoder {
  return {
    format: "avro",
    command: (c) => registry.encode(ids.commands, commandToAvro(c)),
    status: (s) => registry.encode(ids.status, statusToAvro(s)),
  };
}

export interface RejectedMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Message["headers"];
  readonly partition: number;
  readonly offset: string;
  readonly reason: DlqReason;
  readonly error: string;
}

/** The DLQ record: the original bytes and headers, plus headers naming the error and its origin (like Kafka Connect's). */
export function dlqMessage(sourceTopic: string, r: RejectedMessage): Message {
  return {
    key: r.key,
    value: r.value,
    headers: {
      ...r.headers,
      "vigil.error.reason": r.reason,
      "vigil.error.message": r.error.slice(0, 4000),
      "vigil.error.topic": sourceTopic,
      "vigil.error.partition": String(r.partition),
      "vigil.error.offset": r.offset,
    },
  };
}

/**
 * Publishes a batch's outputs in one producer request; resolves once the broker acknowledged
 * all (acks=all). Commands and statuses carry the signer's detached JWS of their value.
 */
export async function publishBatch(
  producer: Producer,
  config: Config,
  encoder: OutputEncoder,
  signer: RecordSigner,
  result: BatchResult,
  rejected: readonly RejectedMessage[],
): Promise<void> {
  const t = config.topics;
  const topicMessages: TopicMessages[] = [];
  if (result.commands.length > 0) {
    const messages = await Promise.all(
      result.commands.map(async (c) => {
        const value = await encoder.command(c);
        return {
          key: c.sessionId,
          value,
          headers: {
            "vigil.command.id": c.commandId,
            "vigil.command.type": c.type,
            "content-type": encoder.format === "json" ? "application/json" : "application/vnd.confluent.avro",
            [SIGNATURE_HEADER]: await signer.sign(t.commands, value),
          },
        };
      }),
    );
    topicMessages.push({ topic: t.commands, messages });
  }
  if (result.statuses.length > 0) {
    const messages = await Promise.all(
      result.statuses.map(async (s) => {
        const value = await encoder.status(s);
        return { key: s.sessionId, value, headers: { [SIGNATURE_HEADER]: await signer.sign(t.sessionStatus, value) } };
      }),
    );
    topicMessages.push({ topic: t.sessionStatus, messages });
  }
  if (result.audits.length > 0) topicMessages.push({ topic: t.audit, messages: result.audits.map((a) => ({ key: a.sessionId, value: JSON.stringify(a) })) });
  if (rejected.length > 0) topicMessages.push({ topic: t.dlq, messages: rejected.map((r) => dlqMessage(t.events, r)) });
  for (const chunk of chunked(topicMessages, MAX_REQUEST_BYTES)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
}

/** Keeps each producer request (and so each partition's record batch) well under the broker's 1 MB default. */
export const MAX_REQUEST_BYTES = 512 * 1024;

const bytes = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === "string" ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 64);

const sizeOf = (m: Message): number => {
  let n = bytes(m.key) + bytes(m.value) + 64;
  const headers = m.headers;
  // for…in, not Object.entries: no array per message (a batch's every record is sized).
  if (headers) for (const k in headers) n += k.length + bytes(headers[k]);
  return n;
};

/** Splits the batch's output into requests of at most `limit` bytes, keeping each topic's order. */
export function chunked(topics: readonly TopicMessages[], limit: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  for (const t of topics) {
    let messages: Message[] = [];
    for (const m of t.messages) {
      const s = sizeOf(m);
      if (size + s > limit && size > 0) {
        if (messages.length > 0) current.push({ topic: t.topic, messages });
        chunks.push(current);
        current = [];
        messages = [];
        size = 0;
      }
      messages.push(m);
      size += s;
    }
    if (messages.length > 0) current.push({ topic: t.topic, messages });
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
