import type { AgentEvent, Command } from "../protocol/index.js";
import type { CompiledPolicy } from "../core/index.js";
import { InMemoryStateStore } from "./in-memory-store.js";
import { createPipeline } from "./pipeline.js";

// Shadowing a policy change: the same events through the policy in force and a candidate,
// side by side (each with its own in-memory state), and what would change. Command ids
// derive from the session, the triggering event, the type and the removed capabilities, not
// from the policy: the same decision under both policies has the same id. So a command is
// added (only the candidate issues it), removed (only the baseline does) or changed (both,
// with other reasons, capabilities or review).

export interface ShadowCounts {
  readonly events: number;
  readonly sessions: number;
  readonly commands: number;
  readonly byType: Record<string, number>;
  /** Commands by their leading reason code. */
  readonly byReason: Record<string, number>;
  /** Sessions with at least one command. */
  readonly sessionsActedOn: number;
}

export interface CommandView {
  readonly commandId: string;
  readonly type: string;
  readonly time: string;
  readonly eventId: string;
  readonly removed?: readonly string[];
  readonly review: boolean;
  readonly reasons: readonly string[];
}

export interface ShadowChange {
  readonly sessionId: string;
  readonly agentId: string;
  readonly baseline: readonly CommandView[];
  readonly candidate: readonly CommandView[];
  /** Reason codes of the commands that differ. */
  readonly reasons: readonly string[];
}

export interface ShadowReport {
  readonly baseline: ShadowCounts;
  readonly candidate: ShadowCounts;
  readonly added: number;
  readonly removed: number;
  readonly modified: number;
  /** Per reason code (leading reason of the differing commands): how many commands each way. */
  readonly byReason: Record<string, { added: number; removed: number; changed: number }>;
  readonly byAgent: Record<string, { added: number; removed: number; changed: number }>;
  /** Sessions whose commands differ, at most `limit` (all counts above cover every session). */
  readonly changed: readonly ShadowChange[];
  readonly changedSessions: number;
}

const view = (c: Command): CommandView => ({
  commandId: c.commandId,
  type: c.type,
  time: c.time,
  eventId: c.causedBy[c.causedBy.length - 1] ?? "",
  ...(c.capabilities ? { removed: c.capabilities.removed } : {}),
  review: c.review.required,
  reasons: c.reasons.map((r) => r.code),
});

const same = (a: CommandView, b: CommandView) => JSON.stringify({ ...a, time: "" }) === JSON.stringify({ ...b, time: "" });

/** One policy's side of the shadow run. */
class Side {
  private readonly pipeline;
  readonly bySession = new Map<string, CommandView[]>();
  events = 0;
  readonly sessions = new Set<string>();
  constructor(policy: CompiledPolicy) {
    this.pipeline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  }
  handle(event: AgentEvent): void {
    const out = this.pipeline.handle(event);
    if (out.duplicate) return;
    this.events++;
    this.sessions.add(event.sessionId);
    if (out.commands.length === 0) return;
    const list = this.bySession.get(event.sessionId) ?? [];
    for (const c of out.commands) list.push(view(c));
    this.bySession.set(event.sessionId, list);
  }
  counts(): ShadowCounts {
    const byType: Record<string, number> = {};
    const byReason: Record<string, number> = {};
    let commands = 0;
    for (const list of this.bySession.values())
      for (const c of list) {
        commands++;
        byType[c.type] = (byType[c.type] ?? 0) + 1;
        const lead = c.reasons[0] ?? "none";
        byReason[lead] = (byReason[lead] ?? 0) + 1;
      }
    return { events: this.events, sessions: this.sessions.size, commands, byType, byReason, sessionsActedOn: this.bySession.size };
  }
}

export interface Shadow {
  handle(event: AgentEvent): void;
  report(limit?: number): ShadowReport;
}

export function shadowRun(baseline: CompiledPolicy, candidate: CompiledPolicy): Shadow {
  const a = new Side(baseline);
  const b = new Side(candidate);
  const agents = new Map<string, string>();
  return {
    handle(event) {
      if (!agents.has(event.sessionId)) agents.set(event.sessionId, event.agent.id);
      a.handle(event);
      b.handle(event);
    },
    report(limit = 100) {
      const byReason: ShadowReport["byReason"] = {};
      const byAgent: ShadowReport["byAgent"] = {};
      const tally = (map: ShadowReport["byReason"], key: string, kind: "added" | "removed" | "changed") => {
        const t = (map[key] ??= { added: 0, removed: 0, changed: 0 });
        t[kind]++;
      };
      let added = 0;
      let removed = 0;
      let modified = 0;
      const changed: ShadowChange[] = [];
      let changedSessions = 0;
      const ids = [...new Set([...a.bySession.keys(), ...b.bySession.keys()])].sort();
      for (const sessionId of ids) {
        const before = a.bySession.get(sessionId) ?? [];
        const after = b.bySession.get(sessionId) ?? [];
        const beforeById = new Map(before.map((c) => [c.commandId, c]));
        const afterById = new Map(after.map((c) => [c.commandId, c]));
        const agent = agents.get(sessionId) ?? "";
        const reasons = new Set<string>();
        const count = (c: CommandView, kind: "added" | "removed" | "changed") => {
          tally(byReason, c.reasons[0] ?? "none", kind);
          tally(byAgent, agent, kind);
          for (const r of c.reasons) reasons.add(r);
        };
        for (const c of after)
          if (!beforeById.has(c.commandId)) {
            added++;
            count(c, "added");
          } else if (!same(beforeById.get(c.commandId) as CommandView, c)) {
            modified++;
            count(c, "changed");
            for (const r of (beforeById.get(c.commandId) as CommandView).reasons) reasons.add(r);
          }
        for (const c of before)
          if (!afterById.has(c.commandId)) {
            removed++;
            count(c, "removed");
          }
        if (reasons.size === 0) continue;
        changedSessions++;
        if (changed.length < limit) changed.push({ sessionId, agentId: agent, baseline: before, candidate: after, reasons: [...reasons].sort() });
      }
      return { baseline: a.counts(), candidate: b.counts(), added, removed, modified, byReason, byAgent, changed, changedSessions };
    },
  };
}
