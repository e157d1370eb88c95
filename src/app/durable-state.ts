import type { Baseline, BaselineDelta, SessionState, SodRecord } from "../core/index.js";
import { sharingParts } from "../core/index.js";
import type { BaselineKind } from "./ports.js";
import type { CaseChange, CaseReader } from "./cases.js";

// The durable side of processing state (Redis live; an in-memory twin for tests). A
// session snapshot carries the input position it reflects — topic, partition, offset and
// the key of the event at that offset — so a re-delivered event at or below it is
// recognised as already applied after a crash, and an offset from another log never is
// (app/batch-processor.ts, docs/operations.md). Each batch also records, with its state,
// the last offset of its topic-partition it reflects (`through`): state found behind the
// committed position was lost (Redis flushed, or restarted from an older dump) and the
// processor rebuilds it from the log (adapters/kafka/processor.ts).

export interface SessionSnapshot {
  readonly state: SessionState;
  /** The events topic the offset is in; absent in snapshots written before it was recorded. */
  readonly topic?: string;
  readonly partition: number;
  readonly offset: string;
  /** eventKey() of the event at `offset`: tells a re-delivery of the same log from a recreated topic. */
  readonly key?: number;
}

/**
 * A stored snapshot's JSON, its state sharing what new sessions share (core sharingParts).
 * A snapshot of another shape is returned as parsed: what it lacks then fails the events
 * that meet it (dead-lettered, counted), not the load of the whole batch.
 */
export function parseSnapshot(json: string): SessionSnapshot {
  const snapshot = JSON.parse(json) as SessionSnapshot;
  try {
    return { ...snapshot, state: sharingParts(snapshot.state) };
  } catch {
    return snapshot;
  }
}

/** One partition of one input topic. */
export interface LogPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface LoadRequest {
  readonly sessions: readonly string[];
  readonly baselines: readonly { kind: BaselineKind; id: string }[];
  readonly sodKeys: readonly string[];
  /** Also read how far into this topic-partition the state reaches. */
  readonly log?: LogPartition;
}

export interface Loaded {
  readonly sessions: ReadonlyMap<string, SessionSnapshot>;
  readonly baselines: ReadonlyMap<string, Baseline>;
  readonly sod: ReadonlyMap<string, readonly SodRecord[]>;
  /** The last offset of the requested `log` whose batch this state holds; absent when none is recorded. */
  readonly through?: string;
}

export interface Changes {
  readonly sessions: readonly SessionSnapshot[];
  /**
   * What the batch added to each baseline (core/baseline-merge.ts), merged into what is stored
   * by then, so processors sharing a baseline lose none of each other's increments. A store
   * merges a delta of a topic-partition at most once per `log.through` offset.
   */
  readonly baselines: readonly { kind: BaselineKind; id: string; delta: BaselineDelta }[];
  readonly sodAppends: readonly { key: string; record: SodRecord }[];
  /** Review cases opened, joined, added to and decided (app/cases.ts). */
  readonly cases: readonly CaseChange[];
  /**
   * The batch's topic-partition and last offset: written with the rest (last, where a store
   * cannot write all at once). Only over a position already recorded, unless `create`: if
   * the position vanished since the load (Redis flushed mid-batch), so did the state it
   * vouched for, and writing it again would hide the loss. `create` is for a batch that
   * starts where the state starts (offset 0, or the first batch of a rebuild from nothing).
   */
  readonly log?: LogPartition & { readonly through: string; readonly create?: boolean };
}

export interface DurableState extends CaseReader {
  load(request: LoadRequest): Promise<Loaded>;
  /** Writes all changes of one batch at once (one round trip, atomic where the store allows). */
  persist(changes: Changes): Promise<void>;
  ping(): Promise<boolean>;
}

export const baselineKey = (kind: BaselineKind, id: string): string => `${kind}:${id}`;
