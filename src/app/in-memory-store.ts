import type { Baseline, SessionState, SodRecord } from "../core/index.js";
import type { BaselineKind, StateStore } from "./ports.js";

/** The in-memory twin of the state store: replay uses it, and so do tests. */
export class InMemoryStateStore implements StateStore {
  readonly sessions = new Map<string, SessionState>();
  readonly baselines = new Map<string, Baseline>();
  readonly sod = new Map<string, SodRecord[]>();

  session(sessionId: string): SessionState | undefined {
    return this.sessions.get(sessionId);
  }
  putSession(session: SessionState): void {
    this.sessions.set(session.sessionId, session);
  }
  baseline(kind: BaselineKind, id: string): Baseline | undefined {
    return this.baselines.get(`${kind}:${id}`);
  }
  putBaseline(kind: BaselineKind, id: string, baseline: Baseline): void {
    this.baselines.set(`${kind}:${id}`, baseline);
  }
  sodRecords(key: string): readonly SodRecord[] {
    return this.sod.get(key) ?? [];
  }
  appendSod(key: string, record: SodRecord): void {
    const list = this.sod.get(key);
    if (list) list.push(record);
    else this.sod.set(key, [record]);
  }
}
