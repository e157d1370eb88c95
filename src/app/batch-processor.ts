import type { ActionResultEvent, AgentEvent, Command } from "../protocol/index.js";
import type { CompiledPolicy, DecisionRecord } from "../core/index.js";
import { matchSod } from "../core/index.js";
import { BatchStore } from "./batch-store.js";
import type { Changes, DurableState, ReviewItem, SessionSnapshot } from "./durable-state.js";
import { createPipeline } from "./pipeline.js";
import type { PipelineOptions } from "./pipeline.js";
import type { ResultSummary } from "./metrics.js";
import type { SessionStatus } from "./session-status.js";
import { sessionStatus } from "./session-status.js";

// One batch of one partition through the decision pipeline: load what the batch needs in
// one round trip, decide every event in order, and return everything to publish and to
// persist. The caller publishes, then persists, then commits the offset (docs/operations.md).

export type BatchInput =
  { offset: string; ok: true; event: AgentEvent; format: "json" | "avro" } | { offset: string; ok: false; reason: string; error: string };

export interface AuditRecord extends DecisionRecord {
  readonly policySource: string;
  readonly partition: number;
  readonly offset: string;
}

export interface BatchResult {
  readonly commands: Command[];
  readonly statuses: SessionStatus[];
  readonly audits: AuditRecord[];
  readonly rejected: Extract<BatchInput, { ok: false }>[];
  readonly changes: Changes;
  /** Events already applied before a crash (offset at or below their session snapshot). */
  readonly alreadyApplied: number;
  readonly duplicates: number;
  readonly processed: Processed[];
}

/** A decided event, for the metrics: its type and wire format, and for a tool result its summary. */
export interface Processed {
  readonly type: string;
  readonly format: string;
  readonly result?: ResultSummary;
}

/** The metrics' view of an `action.result`: `bytes` is the sender's full size, else the text's UTF-8 size (one native pass over at most MAX_OUTPUT_TEXT characters). */
export function resultSummary(event: ActionResultEvent): ResultSummary {
  const { output } = event;
  return {
    outcome: event.outcome,
    trust: event.source?.trust ?? "none",
    bytes: output.bytes ?? (output.text === undefined ? 0 : Buffer.byteLength(output.text, "utf8")),
    truncated: output.truncated === true,
  };
}

export async function processBatch(
  policy: CompiledPolicy,
  state: DurableState,
  hot: ReadonlyMap<string, SessionSnapshot>,
  partition: number,
  inputs: readonly BatchInput[],
  judging: Pick<PipelineOptions, "judge"> = {},
): Promise<BatchResult> {
  const events = inputs.filter((i): i is Extract<BatchInput, { ok: true }> => i.ok);
  const sessions = [...new Set(events.map((e) => e.event.sessionId))].filter((id) => !hot.has(id));
  const baselines = new Map<string, { kind: "agent" | "principal"; id: string }>();
  const sodKeys = new Set<string>();
  for (const { event } of events) {
    baselines.set(`agent:${event.agent.id}`, { kind: "agent", id: event.agent.id });
    baselines.set(`principal:${event.principal.id}`, { kind: "principal", id: event.principal.id });
    if (event.type === "action") for (const m of matchSod(policy.separationOfDuties, event.action.capability, event.resource?.id)) sodKeys.add(m.key);
  }
  const loaded = await state.load({ sessions, baselines: [...baselines.values()], sodKeys: [...sodKeys] });
  const store = new BatchStore(partition, hot, loaded);
  const pipeline = createPipeline({ policy: () => policy, store, ...judging });

  const commands: Command[] = [];
  const audits: AuditRecord[] = [];
  const reviews: ReviewItem[] = [];
  const touched = new Map<string, string | undefined>();
  const processed: Processed[] = [];
  const failed: Extract<BatchInput, { ok: false }>[] = [];
  let alreadyApplied = 0;
  let duplicates = 0;
  for (const input of events) {
    const snapshot = store.snapshot(input.event.sessionId);
    if (snapshot && snapshot.partition === partition && BigInt(snapshot.offset) >= BigInt(input.offset)) {
      alreadyApplied++;
      continue;
    }
    store.at(input.offset);
    let out: ReturnType<typeof pipeline.handle>;
    try {
      out = await pipeline.handleAsync(input.event);
    } catch (e) {
      // A defect must not wedge the partition: the event goes to the DLQ, named and counted.
      failed.push({ offset: input.offset, ok: false, reason: "processing_error", error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (out.duplicate) {
      duplicates++;
      continue;
    }
    processed.push({ type: input.event.type, format: input.format, ...(input.event.type === "action.result" ? { result: resultSummary(input.event) } : {}) });
    commands.push(...out.commands);
    for (const c of out.commands) {
      if (c.review.required)
        reviews.push({ sessionId: c.sessionId, commandId: c.commandId, type: c.type, time: c.time, reasons: c.reasons.map((r) => r.code) });
    }
    const lastCommand = out.commands[out.commands.length - 1]?.commandId;
    if (lastCommand || input.event.type === "session.started" || input.event.type === "session.ended" || !touched.has(input.event.sessionId)) {
      touched.set(input.event.sessionId, lastCommand ?? touched.get(input.event.sessionId));
    }
    if (out.decision && (out.decision.signals.length > 0 || out.commands.length > 0)) {
      audits.push({ ...out.decision, policySource: policy.source, partition, offset: input.offset });
    }
  }
  const statuses = [...touched].map(([id, lastCommandId]) =>
    sessionStatus(store.session(id) as NonNullable<ReturnType<typeof store.session>>, policy.version, lastCommandId),
  );
  return {
    commands,
    statuses,
    audits,
    rejected: [...inputs.filter((i): i is Extract<BatchInput, { ok: false }> => !i.ok), ...failed],
    changes: store.changes(reviews),
    alreadyApplied,
    duplicates,
    processed,
  };
}
