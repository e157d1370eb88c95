import { describe, expect, it } from "vitest";
import { compilePolicy, emptyBaseline, initialSession, step } from "../../src/core/index.js";
import { SEEN_EVENT_IDS, eventKey, isDuplicate } from "../../src/core/session-state.js";
import { action, sessionStarted } from "../support/given-when-then.js";

// Sessions remember the ids of their last events by a 53-bit key, not the ids themselves
// (which run to hundreds of bytes): duplicates are still recognised, distinct ids are not
// confused, and snapshots written before the change (raw ids) still recognise theirs.

const policy = compilePolicy();
const who = { session: "s", agent: "a", principal: "p" };
const started = (eventId: string) => sessionStarted(0, { goal: "read the wiki" }, { ...who, id: eventId });
const input = (session?: ReturnType<typeof initialSession>) => ({
  session,
  agentBaseline: emptyBaseline(),
  principalBaseline: emptyBaseline(),
  sod: { records: () => [] },
});

describe("event keys", () => {
  it("are short, stable and distinct over many similar ids", () => {
    const keys = new Set<number>();
    for (let i = 0; i < 200_000; i++) keys.add(eventKey(`agentdojo-runs/some/long/prefix/user_task_${i % 97}/injection_task_${i}#${i % 13}`));
    expect(keys.size).toBe(200_000);
    expect(eventKey("e-1")).toBe(eventKey("e-1"));
    expect(Number.isSafeInteger(eventKey("e-1"))).toBe(true);
    expect(eventKey("")).not.toBe(eventKey("\u0000"));
  });

  it("recognise a re-delivered event, and not a new one", () => {
    const first = step(policy, input(), started("e-1"));
    expect(first.session.seenEventIds).toEqual([eventKey("e-1")]);
    expect(isDuplicate(first.session, "e-1")).toBe(true);
    expect(isDuplicate(first.session, "e-2")).toBe(false);
    expect(step(policy, input(first.session), started("e-1")).duplicate).toBe(true);
  });

  it("recognise raw ids kept by snapshots written before keys were hashed", () => {
    const legacy = { ...initialSession({ sessionId: "s", agent: { id: "a" }, principal: { id: "p" } }), seenEventIds: ["e-1"] };
    expect(isDuplicate(legacy, "e-1")).toBe(true);
    expect(step(policy, input(legacy), started("e-1")).duplicate).toBe(true);
    expect(isDuplicate(legacy, "e-2")).toBe(false);
  });

  it("keep the last SEEN_EVENT_IDS keys in order, the oldest dropped first, legacy raw ids among them", () => {
    const legacy = { ...initialSession({ sessionId: "s", agent: { id: "a" }, principal: { id: "p" } }), seenEventIds: ["e-old"] };
    let session = step(policy, input(legacy), started("e-0")).session;
    expect(session.seenEventIds).toEqual(["e-old", eventKey("e-0")]);
    const read = (i: number) => action(0, "wiki.read", { ...who, id: `e-${i}` });
    for (let i = 1; i < SEEN_EVENT_IDS + 5; i++) session = step(policy, input(session), read(i)).session;
    const want = Array.from({ length: SEEN_EVENT_IDS }, (_, k) => eventKey(`e-${k + 5}`));
    expect(session.seenEventIds).toEqual(want);
    expect(isDuplicate(session, "e-old")).toBe(false);
    expect(isDuplicate(session, "e-4")).toBe(false);
    expect(isDuplicate(session, "e-5")).toBe(true);
    expect(isDuplicate(session, `e-${SEEN_EVENT_IDS + 4}`)).toBe(true);
  });
});
