// The doors' part of the composition root (docs/doors.md): AuthZEN, the event intake and
// OTLP traces in, with their own producer and an enforcer on the processor's signed records.
// main.ts opens them when callers are configured; nothing else imports this module.
import { randomUUID } from "node:crypto";
import type kafkajs from "kafkajs";
import type { loadConfig } from "../config/config.js";
import type { schemaRegistry } from "../adapters/schema-registry.js";
import type { Logger } from "../adapters/logger.js";
import type { Jwks } from "../adapters/signing.js";
import { DOOR_CAPS, doorsDoor } from "../adapters/doors-http.js";
import { traceReceiver } from "../adapters/otel/trace-receiver.js";
import { createAuthzen } from "../app/authzen.js";
import { createIntake, eventRecord } from "../app/intake.js";
import type { IntakeRecord } from "../app/intake.js";
import { unauthenticated } from "../app/authenticity.js";
import { createEnforcer } from "../sdk/enforcer.js";
import { eventPartitioner } from "../sdk/partitioner.js";
import type { PartitionedMessage } from "../sdk/partitioner.js";
import { citedCommands } from "./cited-commands.js";
import type { CompiledPolicy } from "../core/index.js";

/** Bytes of records one write of the doors carries at most (well under the broker's default message.max.bytes). */
const SEND_CHUNK_BYTES = 512 * 1024;

/**
 * The doors' parts: their own producer (the processor's is busy with batches), an enforcer on
 * the processor's signed records (the AuthZEN hold: the same `decided` and `check` as any
 * enforcement point, so it stays right with many processors), and the HTTP door.
 */
export async function openDoors(
  config: ReturnType<typeof loadConfig>,
  tokens: ReadonlyMap<string, Buffer>,
  kafka: kafkajs.Kafka,
  jwks: Jwks,
  registry: ReturnType<typeof schemaRegistry> | undefined,
  policy: () => CompiledPolicy,
  log: Logger,
) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: eventPartitioner });
  await producer.connect();
  // What fails from here closes what is open: the caller's teardown does not know of it yet.
  const enforcer = await createEnforcer({
    kafka,
    topicPrefix: config.topics.prefix,
    enforcerId: "vigil-authzen",
    verify: { jwks },
    acks: false,
    log: (message, fields) => log.warn(message, fields),
    ...(registry ? { registry } : {}),
  }).catch(async (e: unknown) => {
    await producer.disconnect().catch(() => {});
    throw e;
  });
  const lastCommand = citedCommands(enforcer);
  try {
    await enforcer.start();
  } catch (e) {
    await Promise.allSettled([enforcer.stop(), producer.disconnect()]);
    throw e;
  }
  // In writes of at most SEND_CHUNK_BYTES: kafkajs sends a partition's records as one batch, which the broker refuses
  // whole past its message.max.bytes (1 MiB by default). A request is checked whole before its first write; a broker
  // failure between two writes leaves the first on the topic (the caller gets a 5xx; retrying is safe: event ids dedupe).
  const send = async (records: readonly IntakeRecord[]) => {
    let chunk: PartitionedMessage[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length > 0) await producer.send({ topic: config.topics.events, acks: -1, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const r of records) {
      const size = Buffer.byteLength(r.value) + Buffer.byteLength(r.key) + 64;
      if (bytes + size > SEND_CHUNK_BYTES) await flush();
      chunk.push({ key: r.key, partitionKey: r.partitionKey, value: r.value, headers: { ...r.headers } });
      bytes += size;
    }
    await flush();
  };
  const authzen = createAuthzen(
    { holdMs: config.peps.holdMs, failMode: config.peps.failMode },
    {
      publish: (events, caller) => send(events.map((e) => eventRecord(e, caller))),
      unauthenticated: (event, caller) => unauthenticated(policy(), event, { claimed: caller }),
      decided: (sessionId, time, timeoutMs) => enforcer.decided(sessionId, time, timeoutMs),
      check: (sessionId, capability, resourceId) => enforcer.check(sessionId, capability, resourceId),
      lastCommand,
      known: (sessionId) => enforcer.session(sessionId) !== undefined,
      now: () => Date.now(),
      newId: () => randomUUID(),
    },
  );
  const intake = createIntake({ send, policy });
  // OTLP traces in: watch mode (spans arrive after the call ran). Spans that name no principal speak for "otel-unknown".
  const traces = traceReceiver({
    send,
    refused: (event, caller) => unauthenticated(policy(), event, { claimed: caller }),
    defaultPrincipal: "otel-unknown",
    maxInflated: DOOR_CAPS.traces,
  });
  const door = doorsDoor({
    authzen,
    intake,
    traces,
    tokens,
    certificateSubjects: new Set(config.peps.mtlsSubjects),
    perSecond: config.peps.perSecond,
  });
  return {
    door,
    close: async () => {
      await Promise.allSettled([enforcer.stop(), producer.disconnect()]);
    },
  };
}
