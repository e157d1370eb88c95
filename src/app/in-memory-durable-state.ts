import type { Baseline, SodRecord } from "../core/index.js";
import { mergeBaseline } from "../core/index.js";
import type { Changes, DurableState, LoadRequest, Loaded, SessionSnapshot } from "./durable-state.js";
import type { CaseState, CaseSummary, ReviewCase } from "./cases.js";
import { applyCaseChange, listed } from "./cases.js";
import { baselineKey, parseSnapshot } from "./durable-state.js";

/** The in-memory twin of DurableState. Values are deep-copied in and out, as through Redis. */
export class InMemoryDurableState implements DurableState {
  readonly sessions = new Map<string, string>();
  readonly baselines = new Map<string, string>();
  readonly sod = new Map<string, string[]>();
  readonly cases = new Map<string, ReviewCase>();
  /** `<baseline key>|<topic>:<partition>` → the last offset whose delta is merged into that baseline. */
  readonly merged = new Map<string, bigint>();
  /** `topic:partition` → the last offset whose batch the state holds. */
  readonly logs = new Map<string, string>();

  async load(req: LoadRequest): Promise<Loaded> {
    const sessions = new Map<string, SessionSnapshot>();
    for (const id of req.sessions) {
      const v = this.sessions.get(id);
      if (v) sessions.set(id, parseSnapshot(v));
    }
    const baselines = new Map<string, Baseline>();
    for (const b of req.baselines) {
      const v = this.baselines.get(baselineKey(b.kind, b.id));
      if (v) baselines.set(baselineKey(b.kind, b.id), JSON.parse(v) as Baseline);
    }
    const sod = new Map<string, SodRecord[]>();
    for (const key of req.sodKeys) {
      const v = this.sod.get(key);
      if (v)
        sod.set(
          key,
          v.map((r) => JSON.parse(r) as SodRecord),
        );
    }
    const through = req.log ? this.logs.get(`${req.log.topic}:${req.log.partition}`) : undefined;
    return { sessions, baselines, sod, ...(through === undefined ? {} : { through }) };
  }

  async persist(c: Changes): Promise<void> {
    for (const s of c.sessions) this.sessions.set(s.state.sessionId, JSON.stringify(s));
    for (const b of c.baselines) {
      const key = baselineKey(b.kind, b.id);
      const mark = c.log ? `${key}|${c.log.topic}:${c.log.partition}` : undefined;
      if (mark !== undefined && c.log && (this.merged.get(mark) ?? -1n) >= BigInt(c.log.through)) continue;
      const stored = this.baselines.get(key);
      this.baselines.set(key, JSON.stringify(mergeBaseline(stored === undefined ? undefined : (JSON.parse(stored) as Baseline), b.delta)));
      if (mark !== undefined && c.log) this.merged.set(mark, BigInt(c.log.through));
    }
    for (const a of c.sodAppends) this.sod.set(a.key, [...(this.sod.get(a.key) ?? []), JSON.stringify(a.record)]);
    for (const change of c.cases) applyCaseChange(this.cases, change);
    const log = c.log;
    if (log && (log.create || this.logs.has(`${log.topic}:${log.partition}`))) this.logs.set(`${log.topic}:${log.partition}`, log.through);
  }

  async listCases(filter?: { state?: CaseState | "all"; limit?: number }): Promise<CaseSummary[]> {
    return listed(this.cases.values(), filter);
  }

  async getCase(caseId: string): Promise<ReviewCase | undefined> {
    const c = this.cases.get(caseId);
    return c && (JSON.parse(JSON.stringify(c)) as ReviewCase);
  }

  async pendingCount(): Promise<number> {
    return [...this.cases.values()].filter((c) => c.state === "pending").length;
  }

  async ping(): Promise<boolean> {
    return true;
  }
}
