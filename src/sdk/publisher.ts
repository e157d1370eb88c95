import { randomUUID } from "node:crypto";
import kafkajs from "kafkajs";
import type { Kafka, KafkaConfig, Producer } from "kafkajs";
import type { AgentEvent, ToolOutput } from "../protocol/index.js";
import { MAX_OUTPUT_TEXT, TOPICS, validateEvent } from "../protocol/index.js";
import { PRODUCER_HEADER, SIGNATURE_HEADER } from "../protocol/signature.js";
import type { RecordKey } from "../codec/record-jws.js";
import { recordKey } from "../codec/record-jws.js";
import type { JWK } from "jose";
import type { PartitionBy } from "./partitioner.js";
import { eventPartitioner } from "./partitioner.js";

export { MAX_OUTPUT_TEXT };
export type { ToolOutput };

// Publisher SDK (`vigil/publisher`): agents and tool gateways publish events in a few
// lines. Every event is validated before anything is sent (an invalid one is rejected with
// the field named, and nothing is sent); the key is the sessionId, the partition follows the
// principal (sdk/partitioner.ts); events are batched,
// sent by an idempotent producer with acks=all, and `publish` resolves once the broker has
// them. When the broker is slow, `publish` waits for room instead of queueing without bound.

export class InvalidEventError extends Error {
  readonly code = "INVALID_EVENT";
  readonly retriable = false;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = "InvalidEventError";
  }
}

/** Encodes a validated event for the wire; JSON by default, registry Avro via `avroEncoder`. */
export type EventEncoder = (event: AgentEvent) => Promise<Buffer | string>;
export const jsonEncoder: EventEncoder = async (e) => JSON.stringify(e);

export interface PublisherOptions {
  /** Bootstrap servers; or pass a configured kafkajs instance as `kafka` (TLS, SASL). */
  readonly brokers?: readonly string[];
  readonly kafka?: Kafka;
  readonly clientId?: string;
  readonly topic?: string;
  readonly encoder?: EventEncoder;
  /**
   * Flush when this many events are waiting (default 200) or after lingerMs (default 5). With
   * lingerMs 0 an event is sent at once, or with the next request when one is in flight.
   */
  readonly batchSize?: number;
  readonly lingerMs?: number;
  /** Events accepted but not yet acknowledged before `publish` waits (default 10,000). */
  readonly maxPending?: number;
  /** Fills `time` when the caller leaves it out (default: the wall clock). */
  readonly now?: () => Date;
  /** Fills `eventId` when the caller leaves it out (default: a random UUID). */
  readonly newId?: () => string;
  /** This publisher's name in the `vigil-producer` header of every event (default: `clientId`, else "vigil-publisher"). */
  readonly producerId?: string;
  /**
   * A private JWK (Ed25519 or P-256) to sign every event with (detached JWS in `vigil-jws`,
   * as the processor signs its commands); the processor's policy can require it
   * (`authenticity`, docs/security.md). Its `kid` is this producer's verified identity.
   */
  readonly signingKey?: JWK;
  /**
   * Which id chooses an event's partition (the key is the sessionId either way). Default
   * `principal`: one person's sessions share a partition, so what Vigil knows of them is kept
   * by one processor in order (docs/contract.md, "Partitioning").
   */
  readonly partitionBy?: PartitionBy;
}

type Common = Pick<AgentEvent, "sessionId" | "agent" | "principal"> & {
  eventId?: string;
  time?: string;
  delegation?: string[];
  context?: AgentEvent["context"];
};
type Of<T extends AgentEvent["type"]> = Omit<Extract<AgentEvent, { type: T }>, "type" | "eventId" | "time" | keyof Common> & Common;
/** An event as the caller writes it: `type` required, `eventId` and `time` optional. */
export type EventInput = { [T in AgentEvent["type"]]: Of<T> & { type: T } }[AgentEvent["type"]];

export interface Publisher {
  /** Validates, then sends; resolves with the event as sent once the broker acknowledged it. */
  publish(event: EventInput): Promise<AgentEvent>;
  sessionStarted(e: Of<"session.started">): Promise<AgentEvent>;
  action(e: Of<"action">): Promise<AgentEvent>;
  intentUpdated(e: Of<"intent.updated">): Promise<AgentEvent>;
  contextChanged(e: Of<"context.changed">): Promise<AgentEvent>;
  grantRequested(e: Of<"grant.requested">): Promise<AgentEvent>;
  sessionEnded(e: Of<"session.ended">): Promise<AgentEvent>;
  /**
   * What a tool returned (contract v1.1), sent by the gateway after the tool ran and before
   * the agent reads it: `actionEventId` is the `eventId` of the `action` it answers. Build
   * `output` with `toolOutput(text)` to respect the size limit.
   */
  actionResult(e: Of<"action.result">): Promise<AgentEvent>;
  /** Sends everything accepted so far and waits for the acknowledgements. */
  flush(): Promise<void>;
  /** flush(), then disconnect. */
  close(): Promise<void>;
  /** Events accepted and not yet acknowledged. */
  readonly pending: number;
}

interface Queued {
  key: string;
  value: Buffer | string;
  headers: Record<string, string>;
  event: AgentEvent;
  resolve: (e: AgentEvent) => void;
  reject: (e: unknown) => void;
}

/** The processor's own validation (zod, plus the output size check), so what it would dead-letter is never sent. */
export function validateForPublish(input: EventInput, now: () => Date, newId: () => string): AgentEvent {
  const candidate = { ...input, eventId: input.eventId ?? newId(), time: input.time ?? now().toISOString() };
  const v = validateEvent(candidate);
  if (!v.ok) throw new InvalidEventError(`invalid ${String(input.type)} event: ${v.error}`, v.field);
  return v.value;
}

export interface ToolOutputOptions {
  /** Most characters of text to keep (default and at most MAX_OUTPUT_TEXT, 65,536). */
  readonly maxText?: number;
  readonly mediaType?: string;
  readonly digest?: string;
}

/**
 * The `output` of an `action.result` for the text a tool returned: `bytes` is the full
 * UTF-8 size, and a text over `maxText` characters is cut there (never inside a surrogate
 * pair) with `truncated: true`. One pass over the text.
 */
export function toolOutput(text: string, options: ToolOutputOptions = {}): ToolOutput {
  const max = Math.max(0, Math.min(options.maxText ?? MAX_OUTPUT_TEXT, MAX_OUTPUT_TEXT));
  let cut = Math.min(text.length, max);
  const last = cut > 0 && cut < text.length ? text.charCodeAt(cut - 1) : 0;
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return {
    text: cut < text.length ? text.slice(0, cut) : text,
    bytes: Buffer.byteLength(text, "utf8"),
    truncated: cut < text.length,
    ...(options.mediaType !== undefined ? { mediaType: options.mediaType } : {}),
    ...(options.digest !== undefined ? { digest: options.digest } : {}),
  };
}

export async function createPublisher(options: PublisherOptions): Promise<Publisher> {
  const kafka =
    options.kafka ??
    new kafkajs.Kafka({
      brokers: [...(options.brokers ?? ["127.0.0.1:9092"])],
      clientId: options.clientId ?? "vigil-publisher",
      logLevel: kafkajs.logLevel.WARN,
    } satisfies KafkaConfig);
  const producer: Producer = kafka.producer({
    createPartitioner: eventPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
  });
  await producer.connect();
  const topic = options.topic ?? TOPICS.events;
  const encode = options.encoder ?? jsonEncoder;
  const batchSize = options.batchSize ?? 200;
  const lingerMs = options.lingerMs ?? 5;
  const maxPending = options.maxPending ?? 10_000;
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? (() => randomUUID());
  const producerId = options.producerId ?? options.clientId ?? "vigil-publisher";
  const byPrincipal = (options.partitionBy ?? "principal") === "principal";
  const key: RecordKey | undefined = options.signingKey ? await recordKey(options.signingKey, "signingKey") : undefined;

  const queue: Queued[] = [];
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let closed = false;
  const roomWaiters: (() => void)[] = [];

  // One request in flight (the idempotent producer keeps order only so); what is queued
  // meanwhile goes in the next one, which takes the queue when it starts, not when asked for.
  let next: Promise<void> | undefined;
  const send = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return sending;
    next ??= sending = sending.then(async () => {
      next = undefined;
      const batch = queue.splice(0, batchSize);
      if (batch.length === 0) return;
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((q) => ({ key: q.key, value: q.value, headers: q.headers, ...(byPrincipal ? { partitionKey: q.event.principal.id } : {}) })),
        });
        for (const q of batch) q.resolve(q.event);
      } catch (e) {
        for (const q of batch) q.reject(e);
      } finally {
        pending -= batch.length;
        while (pending < maxPending && roomWaiters.length > 0) roomWaiters.shift()?.();
      }
      // More than one request's worth was waiting: the rest goes next.
      if (queue.length > 0) void send();
    });
    return sending;
  };

  /** Sends everything queued now and waits until the broker has it all. */
  const flush = async (): Promise<void> => {
    while (queue.length > 0) await send();
    await sending;
  };

  const publish = async (input: EventInput): Promise<AgentEvent> => {
    if (closed) throw new Error("publisher is closed");
    const event = validateForPublish(input, now, newId);
    const encoded = await encode(event);
    const value = typeof encoded === "string" ? Buffer.from(encoded) : encoded;
    const headers: Record<string, string> = { [PRODUCER_HEADER]: producerId };
    if (key) headers[SIGNATURE_HEADER] = await key.sign(topic, value);
    while (pending >= maxPending) await new Promise<void>((resolve) => roomWaiters.push(resolve));
    pending++;
    return new Promise<AgentEvent>((resolve, reject) => {
      queue.push({ key: event.sessionId, value, headers, event, resolve, reject });
      if (queue.length >= batchSize || lingerMs <= 0) void send();
      else timer ??= setTimeout(() => void send(), lingerMs);
    });
  };

  return {
    publish,
    sessionStarted: (e) => publish({ ...e, type: "session.started" }),
    action: (e) => publish({ ...e, type: "action" }),
    intentUpdated: (e) => publish({ ...e, type: "intent.updated" }),
    contextChanged: (e) => publish({ ...e, type: "context.changed" }),
    grantRequested: (e) => publish({ ...e, type: "grant.requested" }),
    sessionEnded: (e) => publish({ ...e, type: "session.ended" }),
    actionResult: (e) => publish({ ...e, type: "action.result" }),
    flush,
    async close() {
      closed = true;
      await flush();
      await producer.disconnect();
    },
    get pending() {
      return pending;
    },
  };
}

/** The part of @kafkajs/confluent-schema-registry the Avro encoder needs. */
export interface SchemaRegistryLike {
  /** `register({ type: "AVRO", schema }, { subject })` (overloaded in the client library, hence the loose parameter type). */
  register(...args: never[]): Promise<{ id: number }>;
  encode(id: number, payload: unknown): Promise<Buffer>;
}

/**
 * Confluent wire-format Avro through a schema registry: registers Vigil's event schema
 * under `<topic>-value` (idempotent) and encodes with it. Pass the result as `encoder`.
 */
export async function avroEncoder(registry: SchemaRegistryLike, topic: string = TOPICS.events): Promise<EventEncoder> {
  const { readAvroSchema, eventToAvro } = await import("../codec/avro-codec.js");
  const register = registry.register.bind(registry) as (schema: { type: "AVRO"; schema: string }, options: { subject: string }) => Promise<{ id: number }>;
  const { id } = await register({ type: "AVRO", schema: JSON.stringify(readAvroSchema("vigil-event")) }, { subject: `${topic}-value` });
  return (event) => registry.encode(id, eventToAvro(event));
}
