import { describe, expect, it } from "vitest";
import { BASELINE_COUNT_CAPS, baselineDelta, cloneBaseline, emptyBaseline, learn, mergeBaseline, MAX_FEEDBACK } from "../../src/core/index.js";
import type { Baseline } from "../../src/core/index.js";
import type { AgentEvent } from "../../src/protocol/index.js";

// Baselines as mergeable facts (core/baseline-merge.ts): what one batch learned, as a delta,
// merged into whatever another processor stored meanwhile.

const action = (capability: string, time: string, destination?: string): AgentEvent => ({
  type: "action",
  eventId: `e-${capability}-${time}`,
  sessionId: "s",
  time,
  agent: { id: "a" },
  principal: { id: "p" },
  action: { capability, ...(destination ? { arguments: { url: destination } } : {}) },
});

/** One batch of learning on a copy of `from`, as a processor does it. */
function batch(from: Baseline | undefined, calls: readonly (readonly [string, string, string?])[]): Baseline {
  const b = from ? cloneBaseline(from) : emptyBaseline();
  let previous: string | undefined;
  calls.forEach(([capability, time, destination], i) => {
    learn(b, {
      event: action(capability, time, destination),
      destinations: destination ? [destination] : [],
      actionsInLastMinute: i + 1,
      newSession: i === 0,
      ran: true,
      firstAttemptInSession: true,
      ...(previous ? { previousCapability: previous } : {}),
    });
    previous = capability;
  });
  return b;
}

describe("baseline deltas", () => {
  it("are what the batch added; nothing added is no delta", () => {
    const before = batch(undefined, [["files.read", "2026-11-01T09:00:00Z"]]);
    const after = batch(before, [
      ["files.read", "2026-11-01T10:00:00Z"],
      ["http.post", "2026-11-01T10:00:05Z", "https://x.example"],
    ]);
    const delta = baselineDelta(before, after);
    expect(delta).toMatchObject({
      sessions: 1,
      actions: 2,
      counts: {
        capabilities: [
          ["files.read", 1],
          ["http.post", 1],
        ],
        destinations: [["https://x.example", 1]],
        transitions: [["files.read>http.post", 1]],
      },
      peakPerMinute: 2,
      lastSeen: { time: "2026-11-01T10:00:05Z", ms: Date.parse("2026-11-01T10:00:05Z") },
    });
    expect(delta?.hours?.[10]).toBe(2);
    expect(baselineDelta(after, cloneBaseline(after))).toBeUndefined();
  });

  it("merged, two writers' batches give the one-writer baseline, in either order", () => {
    const a = [
      ["files.read", "2026-11-01T09:00:00Z"],
      ["mail.send", "2026-11-01T09:00:10Z", "ops@example.org"],
    ] as const;
    const b = [
      ["files.read", "2026-11-01T11:00:00Z"],
      ["http.post", "2026-11-01T11:00:01Z", "https://x.example"],
      ["http.post", "2026-11-01T11:00:02Z", "https://x.example"],
    ] as const;
    const oneWriter = batch(batch(undefined, [...a]), [...b]);
    const dA = baselineDelta(undefined, batch(undefined, [...a]));
    const dB = baselineDelta(undefined, batch(undefined, [...b]));
    if (!dA || !dB) throw new Error("no delta");
    const ab = mergeBaseline(mergeBaseline(undefined, dA), dB);
    const ba = mergeBaseline(mergeBaseline(undefined, dB), dA);
    expect(ab).toEqual(ba);
    expect(ab.sessions).toBe(2);
    expect(ab.actions).toBe(oneWriter.actions);
    expect(ab.capabilities).toEqual(oneWriter.capabilities);
    expect(ab.destinations).toEqual(oneWriter.destinations);
    expect(ab.hours).toEqual(oneWriter.hours);
    expect(ab.lastSeen).toBe("2026-11-01T11:00:02Z");
    expect(ab.peakPerMinute).toBe(3);
  });

  it("a last-seen time is compared as an instant, not as text", () => {
    const stored = mergeBaseline(undefined, {
      sessions: 0,
      actions: 0,
      counts: {},
      lastSeen: { time: "2026-11-01T10:00:00+02:00", ms: Date.parse("2026-11-01T08:00:00Z") },
    });
    const merged = mergeBaseline(stored, {
      sessions: 0,
      actions: 0,
      counts: {},
      lastSeen: { time: "2026-11-01T09:00:00Z", ms: Date.parse("2026-11-01T09:00:00Z") },
    });
    expect(merged.lastSeen).toBe("2026-11-01T09:00:00Z");
  });

  it("keeps the caps: existing keys still count, new ones stop at the cap", () => {
    const cap = BASELINE_COUNT_CAPS.ips;
    const full = mergeBaseline(undefined, {
      sessions: 0,
      actions: 0,
      counts: { ips: Array.from({ length: cap }, (_, i) => [`10.0.${i >> 8}.${i & 255}`, 1] as const) },
    });
    const more = mergeBaseline(full, {
      sessions: 0,
      actions: 0,
      counts: {
        ips: [
          ["10.0.0.0", 4],
          ["192.0.2.1", 1],
        ],
      },
    });
    expect(Object.keys(more.ips)).toHaveLength(cap);
    expect(more.ips["10.0.0.0"]).toBe(5);
    expect(more.ips["192.0.2.1"]).toBeUndefined();
  });

  it("feedback: the later entry wins, and the oldest go past the cap", () => {
    const entry = (i: number, factor: number) =>
      [`code|cap${i}`, { factor, at: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString() }, Date.UTC(2026, 10, 1, 0, i)] as const;
    const many = mergeBaseline(undefined, { sessions: 0, actions: 0, counts: {}, feedback: Array.from({ length: MAX_FEEDBACK + 3 }, (_, i) => entry(i, 0.5)) });
    expect(Object.keys(many.feedback ?? {})).toHaveLength(MAX_FEEDBACK);
    expect(many.feedback?.["code|cap0"]).toBeUndefined();
    const older = mergeBaseline(many, {
      sessions: 0,
      actions: 0,
      counts: {},
      feedback: [[`code|cap10`, { factor: 0.9, at: "2026-10-01T00:00:00Z" }, Date.parse("2026-10-01T00:00:00Z")]],
    });
    expect(older.feedback?.["code|cap10"]?.factor).toBe(0.5);
  });

  it("a merge changes neither its input nor the delta", () => {
    const stored = batch(undefined, [["files.read", "2026-11-01T09:00:00Z"]]);
    const copy = structuredClone(stored);
    const delta = baselineDelta(undefined, batch(undefined, [["files.read", "2026-11-01T10:00:00Z"]]));
    if (!delta) throw new Error("no delta");
    const deltaCopy = structuredClone(delta);
    mergeBaseline(stored, delta);
    expect(stored).toEqual(copy);
    expect(delta).toEqual(deltaCopy);
  });
});
