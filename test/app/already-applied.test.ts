import { describe, expect, it } from "vitest";
import { processBatch } from "../../src/app/batch-processor.js";
import { stateGap } from "../../src/adapters/kafka/processor.js";
import type { BatchInput, BatchSource } from "../../src/app/batch-processor.js";
import type { SessionSnapshot } from "../../src/app/durable-state.js";
import { InMemoryDurableState } from "../../src/app/in-memory-durable-state.js";
import { compilePolicy } from "../../src/core/index.js";
import { SEEN_EVENT_IDS } from "../../src/core/session-state.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { AgentEvent as AgentEventSchema } from "../../src/protocol/index.js";
import { action, sessionStarted } from "../support/given-when-then.js";

// Which re-delivered events count as already applied. A snapshot's offset only means
// something in the log it was read from: another deployment's topic sharing the Redis, a
// recreated topic and a moved session all start again at low offsets, and none of them may
// skip an event. A true re-delivery (a crash between persist and commit) must still be
// skipped, also for a session with more events in the batch than its id window holds.

const policy = compilePolicy();
const main: BatchSource = { topic: "vigil.events", partition: 0 };

/** A session of `actions` reads, then a self-approval (a command), ids tagged by `run`. */
function session(sessionId: string, run: string, actions: number): AgentEvent[] {
  const who = { session: sessionId, agent: "agent-1", principal: `p-${sessionId}`, roles: ["manager"] };
  const report = { type: "expense_report", id: `ER-${sessionId}-${run}`, sensitivity: ["financial"] };
  const act = (i: number | string, capability: string, kind: "read" | "write", t: number) =>
    AgentEventSchema.parse(action(t, capability, { ...who, id: `${run}-${i}`, kind, resource: report }));
  const events: AgentEvent[] = [
    AgentEventSchema.parse(
      sessionStarted(
        0,
        { goal: "File my trip report and get it approved" },
        { ...who, id: `${run}-0`, grants: ["expense.submit", "expense.approve", "expense.read"] },
      ),
    ),
  ];
  for (let i = 1; i <= actions; i++) events.push(act(i, "expense.read", "read", i));
  events.push(act("submit", "expense.submit", "write", actions + 1), act("approve", "expense.approve", "write", actions + 2));
  return events;
}

const inputs = (events: readonly AgentEvent[], firstOffset = 0): BatchInput[] =>
  events.map((event, i) => ({ offset: String(firstOffset + i), ok: true, event, format: "json" }));

/** Processes a batch and persists it, as the live processor does (publish is the caller's). */
async function run(state: InMemoryDurableState, source: BatchSource, batch: readonly BatchInput[]) {
  const out = await processBatch(policy, state, new Map(), source, batch);
  await state.persist(out.changes);
  return out;
}

const snapshotOf = (state: InMemoryDurableState, id: string) => JSON.parse(state.sessions.get(id) as string) as SessionSnapshot;

describe("already applied: a re-delivery of the same log", () => {
  const long = session("s-long", "a", SEEN_EVENT_IDS + 72);

  it("skips every event of a re-delivered batch, beyond the id window too, and issues no command twice", async () => {
    const state = new InMemoryDurableState();
    const first = await run(state, main, inputs(long, 1000));
    expect(first.commands.length).toBeGreaterThan(0);
    expect(first.alreadyApplied).toBe(0);
    expect(snapshotOf(state, "s-long")).toMatchObject({ topic: "vigil.events", partition: 0, offset: String(1000 + long.length - 1) });

    const again = await run(state, main, inputs(long, 1000));
    expect(again.alreadyApplied).toBe(long.length);
    expect(again.commands).toEqual([]);
    expect(again.processed).toEqual([]);
  });

  it("skips a shorter re-delivery that stops before the snapshot's own event, by the ids the session remembers", async () => {
    const state = new InMemoryDurableState();
    await run(state, main, inputs(long, 1000));
    // Only the last 100 events before the final one: they lie inside the remembered window.
    const part = inputs(long, 1000).slice(long.length - 101, long.length - 1);
    const again = await run(state, main, part);
    expect(again.alreadyApplied).toBe(100);
    expect(again.commands).toEqual([]);
  });

  it("decides again what follows the snapshot in the same batch", async () => {
    const state = new InMemoryDurableState();
    const all = inputs(long, 1000);
    await run(state, main, all.slice(0, 50));
    const again = await run(state, main, all);
    expect(again.alreadyApplied).toBe(50);
    expect(again.processed).toHaveLength(long.length - 50);
    expect(again.commands.length).toBeGreaterThan(0);
  });
});

describe("already applied: never from another log", () => {
  const before = session("s-shared", "a", 200);
  const after = session("s-shared", "b", 200);

  it("another deployment's topic, same Redis and session ids, lower offsets: every event is decided", async () => {
    const state = new InMemoryDurableState();
    await run(state, main, inputs(before, 5000));
    const other = await run(state, { topic: "staging.vigil.events", partition: 0 }, inputs(after, 0));
    expect(other.alreadyApplied).toBe(0);
    expect(other.duplicates).toBe(0);
    expect(other.processed).toHaveLength(after.length);
    expect(snapshotOf(state, "s-shared")).toMatchObject({ topic: "staging.vigil.events", offset: String(after.length - 1) });
  });

  it("the events topic recreated under the same name, offsets from 0: every event is decided", async () => {
    const state = new InMemoryDurableState();
    await run(state, main, inputs(before, 5000));
    const recreated = await run(state, main, inputs(after, 0));
    expect(recreated.alreadyApplied).toBe(0);
    expect(recreated.processed).toHaveLength(after.length);
  });

  it("a session moved to another partition after a partition increase: every event is decided", async () => {
    const state = new InMemoryDurableState();
    await run(state, main, inputs(before, 5000));
    const moved = await run(state, { topic: "vigil.events", partition: 3 }, inputs(after, 10));
    expect(moved.alreadyApplied).toBe(0);
    expect(moved.processed).toHaveLength(after.length);
  });

  it("the same events re-published into a recreated topic are still recognised, by id, within the window", async () => {
    const state = new InMemoryDurableState();
    const short = session("s-short", "c", 20);
    await run(state, main, inputs(short, 5000));
    const republished = await run(state, { topic: "vigil.events.v2", partition: 0 }, inputs(short, 0));
    expect(republished.alreadyApplied).toBe(0);
    expect(republished.duplicates).toBe(short.length);
    expect(republished.commands).toEqual([]);
  });

  it("a snapshot written before topics were recorded: skipped only with evidence from the remembered ids", async () => {
    const state = new InMemoryDurableState();
    const short = session("s-legacy", "d", 20);
    await run(state, main, inputs(short, 5000));
    const { topic: _t, key: _k, ...legacy } = snapshotOf(state, "s-legacy");
    state.sessions.set("s-legacy", JSON.stringify(legacy));
    const redelivered = await run(state, main, inputs(short, 5000));
    expect(redelivered.alreadyApplied).toBe(short.length);

    state.sessions.set("s-legacy", JSON.stringify(legacy));
    const fresh = await run(state, main, inputs(session("s-legacy", "e", 20), 0));
    expect(fresh.alreadyApplied).toBe(0);
    expect(fresh.processed).toHaveLength(23);
  });
});

describe("rebuilding lost state: re-reading the same log", () => {
  it("skips by offset alone what a snapshot reflects, decides the rest into state, in this topic-partition only", async () => {
    const long = session("s-rebuild", "a", SEEN_EVENT_IDS + 72);
    const state = new InMemoryDurableState();
    // What survived: the snapshot after the first 150 events.
    await run(state, main, inputs(long.slice(0, 150), 0));
    const survived = snapshotOf(state, "s-rebuild");
    // Re-read from the start: a chunk of events older than the 128 ids the session remembers,
    // without the snapshot's own event, gives the normal rule no evidence of the same log.
    const early = inputs(long.slice(0, 20), 0);
    const normal = await processBatch(policy, state, new Map(), main, early);
    expect(normal.alreadyApplied).toBe(0);
    const replayed = await processBatch(policy, state, new Map(), main, early, { replay: true });
    expect(replayed.alreadyApplied).toBe(20);
    expect(replayed.changes.sessions).toEqual([]);
    // Past the snapshot, events are decided (and would be published by the caller only outside a rebuild).
    const rest = await processBatch(policy, state, new Map(), main, inputs(long.slice(150), 150), { replay: true });
    expect(rest.alreadyApplied).toBe(0);
    expect(rest.commands.length).toBeGreaterThan(0);
    // Another partition's snapshot never skips.
    const other = await processBatch(policy, state, new Map(), { ...main, partition: 1 }, early, { replay: true });
    expect(other.alreadyApplied).toBe(0);
    expect(survived.offset).toBe("149");
  });
});

describe("stateGap: where a batch stands against the state's recorded position", () => {
  it("is a gap only when the state reaches less far than the batch starts", () => {
    expect(stateGap(undefined, "0")).toBeUndefined();
    expect(stateGap(undefined, "10")).toEqual({ from: 0n });
    expect(stateGap("9", "10")).toBeUndefined();
    expect(stateGap("12", "10")).toBeUndefined(); // a crash between persist and commit: a re-delivery, not a loss
    expect(stateGap("4", "10")).toEqual({ from: 5n });
    expect(stateGap("99999999999999999", "100000000000000001")).toEqual({ from: 100000000000000000n });
  });
});
