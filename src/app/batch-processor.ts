import type { ActionResultEvent, AgentEvent, Command, DlqReason } from "../protocol/index.js";
import type { CompiledPolicy, DecisionRecord } from "../core/index.js";
import { TOOL_FINDING_CODES, eventKey, matchSod } from "../core/index.js";
import { BatchStore } from "./batch-store.js";
import type { Changes, DurableState, SessionSnapshot } from "./durable-state.js";
import type { CaseChange } from "./cases.js";
import { caseChanges } from "./cases.js";
import { createPipeline } from "./pipeline.js";
import type { PipelineOptions } from "./pipeline.js";
import type { ResultSummary } from "./metrics.js";
import type { SessionStatus } from "./session-status.js";
import { sessionStatus } from "./session-status.js";

// One batch of one partition through the decision pipeline: load what the batch needs in
// one round trip, decide every event in order, and return everything to publish and to
// persist. The caller publishes, then persists, then commits the offset (docs/operations.md).

export type BatchInput =
  { offset: string; ok: true; event: AgentEvent; format: "json" | "avro" } | { offset: string; ok: false; reason: DlqReason; error: string };

export interface AuditRecord extends DecisionRecord {
  readonly policySource: string;
  readonly partition: number;
  readonly offset: string;
}

/** Where a batch was read from. */
export interface BatchSource {
  readonly topic: string;
  readonly partition: number;
}

export interface BatchResult {
  readonly commands: Command[];
  readonly statuses: SessionStatus[];
  readonly audits: AuditRecord[];
  readonly rejected: Extract<BatchInput, { ok: false }>[];
  readonly changes: Changes;
  /** Events already applied before a crash (at or below their session snapshot's offset, in the same log). */
  readonly alreadyApplied: number;
  readonly duplicates: number;
  readonly processed: Processed[];
  /** The last offset of this topic-partition whose batch the durable state held before this one (absent: none recorded). */
  readonly stateThrough?: string;
}

export interface BatchOptions extends Pick<PipelineOptions, "judging"> {
  /**
   * Rebuilding lost state from the log: these events were decided before (their commands
   * are out), so an event at or below its session snapshot's offset in this topic-partition
   * is skipped on the offset alone — the log is the one just re-read from.
   */
  readonly replay?: boolean;
}

/** A decided event, for the metrics: its type and wire format, for a tool result its summary, for a tool listing its findings. */
export interface Processed {
  readonly type: string;
  readonly format: string;
  readonly result?: ResultSummary;
  readonly toolFindings?: readonly ToolFindingSummary[];
}

/** A finding on an MCP tool definition, for the metrics and the log: its code, the policy's action, the finding's message (it names the tool). */
export interface ToolFindingSummary {
  readonly code: string;
  readonly action: string;
  readonly message: string;
}

const KIND_OF_CODE: ReadonlyMap<string, keyof typeof TOOL_FINDING_CODES> = new Map(
  (Object.entries(TOOL_FINDING_CODES) as [keyof typeof TOOL_FINDING_CODES, string][]).map(([kind, code]) => [code, kind]),
);

/** The MCP tool findings of a `tools.listed` decision, each with what the policy made of it. */
export function toolFindingsOf(policy: CompiledPolicy, decision: DecisionRecord | undefined): ToolFindingSummary[] {
  const out: ToolFindingSummary[] = [];
  for (const s of decision?.signals ?? []) {
    const kind = KIND_OF_CODE.get(s.code);
    if (kind !== undefined) out.push({ code: s.code, action: policy.mcp[kind], message: s.message });
  }
  return out;
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

/**
 * A decision's audit record: the decision's fields in their order, then where it was decided
 * (the same JSON as `{ ...decision, policySource, partition, offset }`). Built field by
 * field: that spread of a record whose optional fields were themselves spread in cost a
 * third of the batch's own work around the pipeline (V8 makes the copy's shape anew each
 * time). test/app/audit-record.test.ts fails to compile when DecisionRecord gains a field.
 */
export function auditRecord(d: DecisionRecord, policySource: string, partition: number, offset: string): AuditRecord {
  type Building = { -readonly [K in keyof AuditRecord]: AuditRecord[K] };
  const a = {
    eventId: d.eventId,
    eventType: d.eventType,
    sessionId: d.sessionId,
    agentId: d.agentId,
    principalId: d.principalId,
    time: d.time,
    policyVersion: d.policyVersion,
    riskScore: d.riskScore,
    signals: d.signals,
    level: d.level,
    commandIds: d.commandIds,
  } as Building;
  if (d.verdict !== undefined) a.verdict = d.verdict;
  a.ruleErrors = d.ruleErrors;
  if (d.judgement !== undefined) a.judgement = d.judgement;
  if (d.feedback !== undefined) a.feedback = d.feedback;
  a.policySource = policySource;
  a.partition = partition;
  a.offset = offset;
  return a;
}

export async function processBatch(
  policy: CompiledPolicy,
  state: DurableState,
  hot: ReadonlyMap<string, SessionSnapshot>,
  source: BatchSource,
  inputs: readonly BatchInput[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  const { partition } = source;
  const events = inputs.filter((i): i is Extract<BatchInput, { ok: true }> => i.ok);
  const sessions = [...new Set(events.map((e) => e.event.sessionId))].filter((id) => !hot.has(id));
  const baselines = new Map<string, { kind: "agent" | "principal"; id: string }>();
  const sodKeys = new Set<string>();
  for (const { event } of events) {
    baselines.set(`agent:${event.agent.id}`, { kind: "agent", id: event.agent.id });
    baselines.set(`principal:${event.principal.id}`, { kind: "principal", id: event.principal.id });
    if (event.type === "action") for (const m of matchSod(policy.separationOfDuties, event.action.capability, event.resource?.id)) sodKeys.add(m.key);
  }
  const loaded = await state.load({ sessions, baselines: [...baselines.values()], sodKeys: [...sodKeys], log: source });
  const store = new BatchStore(source.topic, partition, hot, loaded);
  const applied = options.replay ? appliedInThisLog(source) : alreadyAppliedTest(source, events);
  const pipeline = createPipeline({ policy: () => policy, store, ...(options.judging && !options.replay ? { judging: options.judging } : {}) });

  const commands: Command[] = [];
  const audits: AuditRecord[] = [];
  const cases: CaseChange[] = [];
  const touched = new Map<string, string | undefined>();
  const processed: Processed[] = [];
  const failed: Extract<BatchInput, { ok: false }>[] = [];
  let alreadyApplied = 0;
  let duplicates = 0;
  for (const input of events) {
    const snapshot = store.snapshot(input.event.sessionId);
    if (snapshot && applied(snapshot, input)) {
      alreadyApplied++;
      continue;
    }
    store.at(input.offset, eventKey(input.event.eventId));
    const before = store.session(input.event.sessionId);
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
    processed.push({
      type: input.event.type,
      format: input.format,
      ...(input.event.type === "action.result" ? { result: resultSummary(input.event) } : {}),
      ...(input.event.type === "tools.listed" ? { toolFindings: toolFindingsOf(policy, out.decision) } : {}),
    });
    commands.push(...out.commands);
    const after = store.session(input.event.sessionId);
    if (after && (after.openCase || before?.openCase)) cases.push(...caseChanges(before, after, input.event, out.decision, out.commands, out.explanations));
    const lastCommand = out.commands[out.commands.length - 1]?.commandId;
    if (lastCommand || input.event.type === "session.started" || input.event.type === "session.ended" || !touched.has(input.event.sessionId)) {
      touched.set(input.event.sessionId, lastCommand ?? touched.get(input.event.sessionId));
    }
    // A person's verdict or answer is always on the audit trail, whatever it changed.
    const personal = input.event.type === "review.decided" || input.event.type === "step_up.answered";
    if (out.decision && (out.decision.signals.length > 0 || out.commands.length > 0 || personal)) {
      audits.push(auditRecord(out.decision, policy.source, partition, input.offset));
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
    changes: store.changes(cases),
    alreadyApplied,
    duplicates,
    processed,
    ...(loaded.through === undefined ? {} : { stateThrough: loaded.through }),
  };
}

type Decoded = Extract<BatchInput, { ok: true }>;

/** While rebuilding: applied when the snapshot was taken in this topic-partition at or after the event's offset. */
function appliedInThisLog(source: BatchSource): (snapshot: SessionSnapshot, input: Decoded) => boolean {
  return (snapshot, input) =>
    snapshot.partition === source.partition &&
    (snapshot.topic === undefined || snapshot.topic === source.topic) &&
    BigInt(input.offset) <= BigInt(snapshot.offset);
}

/**
 * Whether an event was applied before: its offset is at or below the session snapshot's,
 * the snapshot was taken in this topic and partition, and the log is the same one. Offsets
 * alone cannot tell: a recreated topic, or another deployment's topic sharing the Redis,
 * starts again from offset 0. The log is the same when the batch holds the snapshot's own
 * event (the same key at the same offset), or else when one of the session's events here,
 * at or below that offset, is among the ids the session remembers. Without that evidence
 * nothing is skipped by offset, and the engine's own id window still drops a true repeat.
 * Decided once per snapshot.
 */
function alreadyAppliedTest(source: BatchSource, events: readonly Decoded[]): (snapshot: SessionSnapshot, input: Decoded) => boolean {
  const sameLog = new WeakMap<SessionSnapshot, boolean>();
  let byOffset: Map<string, Decoded> | undefined;
  const evidence = (snapshot: SessionSnapshot, sessionId: string, upTo: bigint): boolean => {
    byOffset ??= new Map(events.map((e) => [e.offset, e]));
    const own = snapshot.key === undefined ? undefined : byOffset.get(snapshot.offset);
    if (own !== undefined) return own.event.sessionId === sessionId && eventKey(own.event.eventId) === snapshot.key;
    const seen = new Set(snapshot.state.seenEventIds);
    return events.some(
      (e) => e.event.sessionId === sessionId && BigInt(e.offset) <= upTo && (seen.has(eventKey(e.event.eventId)) || seen.has(e.event.eventId)),
    );
  };
  return (snapshot, input) => {
    if (snapshot.partition !== source.partition || (snapshot.topic !== undefined && snapshot.topic !== source.topic)) return false;
    const upTo = BigInt(snapshot.offset);
    if (BigInt(input.offset) > upTo) return false;
    let same = sameLog.get(snapshot);
    if (same === undefined) {
      same = evidence(snapshot, input.event.sessionId, upTo);
      sameLog.set(snapshot, same);
    }
    return same;
  };
}
