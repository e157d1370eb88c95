import { describe, expect, it } from "vitest";
import { BatchStore } from "../../src/app/batch-store.js";
import { cloneBaseline } from "../../src/core/index.js";
import { learnedBaseline, withSessionStart } from "../contract/fixtures.js";

// A batch writes what it learned, not the baseline it loaded (core/baseline-merge.ts): the
// delta is taken against the baseline as loaded, whether the batch read it first or not.

const loadedWith = (b = learnedBaseline()) => ({ sessions: new Map(), baselines: new Map([["agent:a", b]]), sod: new Map() });
const oneMoreSession = (b: ReturnType<typeof learnedBaseline>) => withSessionStart(b, "s2", "2026-11-28T10:00:00Z");

describe("a batch's baseline deltas", () => {
  it("read, learned in place, put back: the delta is the one session added, not the loaded two", () => {
    const store = new BatchStore("t", 0, new Map(), loadedWith());
    const b = store.baseline("agent", "a");
    if (!b) throw new Error("not loaded");
    store.putBaseline("agent", "a", oneMoreSession(b));
    const [change] = store.changes([]).baselines;
    expect(change).toMatchObject({ kind: "agent", id: "a", delta: { sessions: 1, lastSeen: { time: "2026-11-28T10:00:00Z" } } });
  });

  it("put without a read: the delta is still taken against the loaded baseline", () => {
    const store = new BatchStore("t", 0, new Map(), loadedWith());
    store.putBaseline("agent", "a", oneMoreSession(cloneBaseline(learnedBaseline())));
    expect(store.changes([]).baselines[0]?.delta.sessions).toBe(1);
  });

  it("nothing learned: no delta, no write", () => {
    const store = new BatchStore("t", 0, new Map(), loadedWith());
    const b = store.baseline("agent", "a");
    if (!b) throw new Error("not loaded");
    store.putBaseline("agent", "a", b);
    expect(store.changes([]).baselines).toEqual([]);
  });
});
