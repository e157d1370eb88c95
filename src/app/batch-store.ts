import type { Baseline, SessionState, SodRecord } from "../core/index.js";
import { baselineDelta, cloneBaseline } from "../core/index.js";
import type { BaselineKind, StateStore } from "./ports.js";
import type { Changes, Loaded, SessionSnapshot } from "./durable-state.js";
import { baselineKey } from "./durable-state.js";

/**
 * The state one batch works on: the partition's hot sessions and what was loaded for the
 * batch, with every write kept in an overlay. The overlay becomes the batch's Changes; the
 * hot cache is updated only after those are durable, so a failed batch leaves no trace.
 */
export class BatchStore implements StateStore {
  private readonly sessions = new Map<string, SessionSnapshot>();
  private readonly baselines = new Map<string, { kind: BaselineKind; id: string; baseline: Baseline }>();
  /** Each loaded baseline as it was before this batch (`learn` changes the loaded one in place): the delta's origin. */
  private readonly origins = new Map<string, Baseline | undefined>();
  private readonly sodAppends: { key: string; record: SodRecord }[] = [];
  private currentOffset = "-1";
  private currentKey = 0;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly hot: ReadonlyMap<string, SessionSnapshot>,
    private readonly loaded: Loaded,
  ) {}

  /** The snapshot as of the last write in this batch, else the hot or loaded one. */
  snapshot(sessionId: string): SessionSnapshot | undefined {
    return this.sessions.get(sessionId) ?? this.hot.get(sessionId) ?? this.loaded.sessions.get(sessionId);
  }

  /** The input position the next writes reflect: its offset and the key of the event there. */
  at(offset: string, key: number): void {
    this.currentOffset = offset;
    this.currentKey = key;
  }

  session(sessionId: string): SessionState | undefined {
    return this.snapshot(sessionId)?.state;
  }
  putSession(state: SessionState): void {
    this.sessions.set(state.sessionId, { state, topic: this.topic, partition: this.partition, offset: this.currentOffset, key: this.currentKey });
  }
  baseline(kind: BaselineKind, id: string): Baseline | undefined {
    const key = baselineKey(kind, id);
    const put = this.baselines.get(key);
    if (put) return put.baseline;
    const loaded = this.loaded.baselines.get(key);
    if (!this.origins.has(key)) this.origins.set(key, loaded && cloneBaseline(loaded));
    return loaded;
  }
  putBaseline(kind: BaselineKind, id: string, baseline: Baseline): void {
    const key = baselineKey(kind, id);
    // A put without a read first: the loaded baseline was never handed out, so it is still the origin.
    if (!this.origins.has(key)) {
      const loaded = this.loaded.baselines.get(key);
      this.origins.set(key, loaded && cloneBaseline(loaded));
    }
    this.baselines.set(key, { kind, id, baseline });
  }
  sodRecords(key: string): readonly SodRecord[] {
    const appended = this.sodAppends.filter((a) => a.key === key).map((a) => a.record);
    return [...(this.loaded.sod.get(key) ?? []), ...appended];
  }
  appendSod(key: string, record: SodRecord): void {
    this.sodAppends.push({ key, record });
  }

  changes(cases: Changes["cases"]): Changes {
    const baselines: Changes["baselines"][number][] = [];
    for (const [key, { kind, id, baseline }] of this.baselines) {
      const delta = baselineDelta(this.origins.get(key), baseline);
      if (delta) baselines.push({ kind, id, delta });
    }
    return { sessions: [...this.sessions.values()], baselines, sodAppends: this.sodAppends, cases };
  }
}
