import type { Baseline, SessionState, SodRecord } from "../core/index.js";

// The ports the pipeline needs, and nothing more (docs/style.md, rule 4). State access is
// synchronous: hot state lives in process; the live adapter loads it from Redis before a
// batch and writes what changed after it (docs/operations.md).

export type BaselineKind = "agent" | "principal";

export interface StateStore {
  session(sessionId: string): SessionState | undefined;
  putSession(session: SessionState): void;
  baseline(kind: BaselineKind, id: string): Baseline | undefined;
  putBaseline(kind: BaselineKind, id: string, baseline: Baseline): void;
  sodRecords(key: string): readonly SodRecord[];
  appendSod(key: string, record: SodRecord): void;
}

/**
 * The clock, as a port: the application layer measures durations (a judge's budget, how long
 * it took) but never reads the time itself, so tests drive it and replay stays pure. Decisions
 * never read it: their time is the events' (core/time.ts).
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin, monotonic. */
  monotonicMs(): number;
}
