import type { AgentEvent, Command } from "../protocol/index.js";
import type { DecisionRecord, EvidenceEvent, Explanation, SessionState } from "../core/index.js";

// Review cases as people see them: who, why, what happened, and the verdict. The core keeps
// only what decisions need (SessionState.openCase); this module turns each decided event
// into the changes a case store records, so a case is rebuilt by replaying the events like
// everything else. Bounded: a case keeps its last MAX_TIMELINE events and MAX_CASE_COMMANDS
// commands.

export const MAX_TIMELINE = 100;
export const MAX_CASE_COMMANDS = 32;

export type CaseState = "pending" | "confirmed" | "overturned";

/** How far a case's holds went: `high` revoked the session, `medium` took capabilities away, `low` held a request or demanded a step-up. */
export type CaseSeverity = "high" | "medium" | "low";
export const CASE_SEVERITIES: readonly CaseSeverity[] = ["high", "medium", "low"];

/** Why the case holds the session, from its latest hold (core/explain.ts): absent on cases opened before explanations existed. */
export interface CaseExplanation {
  /** One sentence: what the agent tried, what the goal asked, where a value came from, which earlier event it conflicts with. */
  readonly explanation?: string;
  /** The session's goal (capped), when one was declared. */
  readonly goal?: string;
  readonly severity?: CaseSeverity;
  /** The session's risk at the latest hold. */
  readonly riskScore?: number;
  /** The events to look at: the held one, the earlier ones its findings name (another session's, for separation of duties), the calls whose output brought a value or an order. */
  readonly evidence?: readonly EvidenceEvent[];
}

export interface CaseSummary extends CaseExplanation {
  readonly caseId: string;
  readonly sessionId: string;
  readonly agentId: string;
  readonly principalId: string;
  readonly state: CaseState;
  readonly openedAt: string;
  readonly reasons: readonly { code: string; capability?: string; hard: boolean }[];
  readonly decidedAt?: string;
  readonly reviewer?: string;
  readonly note?: string;
  /** Confirmed with a revocation. */
  readonly revoked?: boolean;
  /** Overturned: the findings that now weigh less for the agent, and by what factor. */
  readonly feedback?: readonly { code: string; capability?: string; factor: number }[];
}

export interface TimelineEntry {
  readonly time: string;
  readonly eventId: string;
  readonly type: string;
  readonly capability?: string;
  readonly resourceId?: string;
  readonly level?: string;
  readonly riskScore?: number;
  readonly findings?: readonly { code: string; weight: number }[];
  readonly commandIds?: readonly string[];
}

export interface CaseCommand {
  readonly commandId: string;
  readonly type: string;
  readonly time: string;
  readonly reasons: readonly string[];
  readonly explanation?: string;
}

export interface ReviewCase extends CaseSummary {
  readonly commands: readonly CaseCommand[];
  readonly timeline: readonly TimelineEntry[];
}

export type CaseChange =
  | { readonly kind: "open"; readonly summary: CaseSummary; readonly timeline: readonly TimelineEntry[] }
  | { readonly kind: "reasons"; readonly caseId: string; readonly sessionId: string; readonly reasons: CaseSummary["reasons"] }
  | { readonly kind: "command"; readonly caseId: string; readonly sessionId: string; readonly command: CaseCommand }
  | { readonly kind: "explained"; readonly caseId: string; readonly sessionId: string; readonly explained: CaseExplanation }
  | { readonly kind: "timeline"; readonly caseId: string; readonly sessionId: string; readonly entry: TimelineEntry }
  | {
      readonly kind: "decided";
      readonly caseId: string;
      readonly sessionId: string;
      readonly state: Exclude<CaseState, "pending">;
      readonly decidedAt: string;
      readonly reviewer: string;
      readonly note?: string;
      readonly revoked: boolean;
      readonly feedback?: CaseSummary["feedback"];
    };

/** Reading cases back (the review CLI and HTTP API). */
export interface CaseReader {
  /** Newest first; `pending` by default. */
  listCases(filter?: { state?: CaseState | "all"; limit?: number }): Promise<CaseSummary[]>;
  getCase(caseId: string): Promise<ReviewCase | undefined>;
  /** Cases waiting for a person. */
  pendingCount(): Promise<number>;
}

/** One decided event as a timeline line: what it was, what Vigil found, what it did. */
export function timelineEntry(event: AgentEvent, decision: DecisionRecord | undefined): TimelineEntry {
  return {
    time: event.time,
    eventId: event.eventId,
    type: event.type,
    ...(event.type === "action" ? { capability: event.action.capability } : event.type === "grant.requested" ? { capability: event.capability } : {}),
    ...((event.type === "action" || event.type === "grant.requested") && event.resource?.id ? { resourceId: event.resource.id } : {}),
    ...(decision
      ? {
          level: decision.level,
          riskScore: decision.riskScore,
          ...(decision.signals.length > 0
            ? { findings: decision.signals.slice(0, 8).map((s) => ({ code: s.code, weight: Math.round(s.weight * 1000) / 1000 })) }
            : {}),
          ...(decision.commandIds.length > 0 ? { commandIds: decision.commandIds } : {}),
        }
      : {}),
  };
}

const caseCommand = (c: Command): CaseCommand => ({
  commandId: c.commandId,
  type: c.type,
  time: c.time,
  reasons: c.reasons.map((r) => r.code),
  ...(c.explanation !== undefined ? { explanation: c.explanation } : {}),
});

/** Severity from the session's enforcement, which only tightens while a case is open. */
const severityOf = (s: SessionState): CaseSeverity =>
  s.enforcement.revoked ? "high" : s.enforcement.removed.length > 0 || s.enforcement.deniedOn.length > 0 ? "medium" : "low";

/** What the latest hold says about the case: its sentence, the goal, the evidence, how far it went. */
function explainedBy(after: SessionState, hold: Command, explanation: Explanation | undefined): CaseExplanation {
  return {
    ...(hold.explanation !== undefined ? { explanation: hold.explanation } : {}),
    ...(explanation?.goal !== undefined ? { goal: explanation.goal } : {}),
    severity: severityOf(after),
    riskScore: hold.riskScore,
    ...(explanation !== undefined ? { evidence: explanation.evidence } : {}),
  };
}

/**
 * The case changes one decided event makes: a hold opens a case (its timeline starts with
 * the actions the session remembers before it) or joins the open one; every later event of
 * the session joins the timeline; a verdict on the open case closes it.
 */
export function caseChanges(
  before: SessionState | undefined,
  after: SessionState,
  event: AgentEvent,
  decision: DecisionRecord | undefined,
  commands: readonly Command[],
  explanations: readonly Explanation[] = [],
): CaseChange[] {
  const was = before?.openCase;
  const now = after.openCase;
  const out: CaseChange[] = [];
  const entry = timelineEntry(event, decision);
  const ids = { sessionId: after.sessionId };
  const holds = commands.filter((c) => c.review.required);
  const hold = holds[holds.length - 1];
  const explained =
    hold &&
    explainedBy(
      after,
      hold,
      explanations.find((x) => x.commandId === hold.commandId),
    );
  if (now && now.caseId !== was?.caseId) {
    const earlier: TimelineEntry[] = (before?.recent ?? []).map((a) => ({ time: a.time, eventId: a.eventId, type: "action", capability: a.capability }));
    out.push({
      kind: "open",
      summary: {
        caseId: now.caseId,
        ...ids,
        agentId: after.agentId,
        principalId: after.principalId,
        state: "pending",
        openedAt: now.openedAt,
        reasons: now.reasons,
        ...explained,
      },
      timeline: [...earlier, entry].slice(-MAX_TIMELINE),
    });
  } else if (now) {
    out.push({ kind: "timeline", caseId: now.caseId, ...ids, entry });
    if (now.reasons.length !== was?.reasons.length) out.push({ kind: "reasons", caseId: now.caseId, ...ids, reasons: now.reasons });
    if (explained) out.push({ kind: "explained", caseId: now.caseId, ...ids, explained });
  }
  if (now) for (const c of commands) if (c.review.required) out.push({ kind: "command", caseId: now.caseId, ...ids, command: caseCommand(c) });
  if (was && now?.caseId !== was.caseId && event.type === "review.decided" && event.review.caseId === was.caseId) {
    out.push({ kind: "timeline", caseId: was.caseId, ...ids, entry });
    for (const c of commands) out.push({ kind: "command", caseId: was.caseId, ...ids, command: caseCommand(c) });
    out.push({
      kind: "decided",
      caseId: was.caseId,
      ...ids,
      state: event.review.verdict,
      decidedAt: event.time,
      reviewer: event.review.reviewer,
      ...(event.review.note ? { note: event.review.note } : {}),
      revoked: commands.some((c) => c.type === "revoke"),
      ...(decision?.feedback ? { feedback: decision.feedback } : {}),
    });
  }
  return out;
}

/** Applies one change to cases kept whole in memory (the in-memory twin; the Redis adapter does the same with its own keys). */
export function applyCaseChange(cases: Map<string, ReviewCase>, c: CaseChange): void {
  if (c.kind === "open") {
    if (!cases.has(c.summary.caseId)) cases.set(c.summary.caseId, { ...c.summary, commands: [], timeline: c.timeline.slice(-MAX_TIMELINE) });
    return;
  }
  const current = cases.get(c.caseId);
  if (current === undefined) return;
  switch (c.kind) {
    case "reasons":
      cases.set(c.caseId, { ...current, reasons: c.reasons });
      return;
    case "command":
      cases.set(c.caseId, { ...current, commands: [...current.commands, c.command].slice(-MAX_CASE_COMMANDS) });
      return;
    case "explained":
      cases.set(c.caseId, { ...current, ...c.explained });
      return;
    case "timeline":
      cases.set(c.caseId, { ...current, timeline: [...current.timeline, c.entry].slice(-MAX_TIMELINE) });
      return;
    case "decided":
      cases.set(c.caseId, {
        ...current,
        state: c.state,
        decidedAt: c.decidedAt,
        reviewer: c.reviewer,
        ...(c.note ? { note: c.note } : {}),
        ...(c.revoked ? { revoked: true } : {}),
        ...(c.feedback ? { feedback: c.feedback } : {}),
      });
      return;
    default: {
      const _exhaustive: never = c;
      return _exhaustive;
    }
  }
}

/** The summary part of a case (what a list shows). */
export const summaryOf = ({ commands: _c, timeline: _t, ...summary }: ReviewCase): CaseSummary => summary;

/** Newest first by when they opened (pending) or were decided. */
export function listed(all: Iterable<ReviewCase>, filter: { state?: CaseState | "all"; limit?: number } = {}): CaseSummary[] {
  const state = filter.state ?? "pending";
  const at = (c: CaseSummary) => Date.parse(c.decidedAt ?? c.openedAt);
  return [...all]
    .filter((c) => state === "all" || c.state === state)
    .sort((a, b) => at(b) - at(a) || b.caseId.localeCompare(a.caseId))
    .slice(0, filter.limit ?? 100)
    .map(summaryOf);
}
