import { emptyBaseline, learn } from "../../src/core/index.js";
import type { Baseline, BaselineDelta, SodRecord } from "../../src/core/index.js";

// Values the contract suites store and read back.

/** `b` having learned one more session start (in place, as `learn` does), of session `sessionId` at `time`. */
export const withSessionStart = (b: Baseline, sessionId: string, time: string): Baseline =>
  learn(b, {
    event: {
      type: "session.started",
      eventId: `e-${sessionId}`,
      sessionId,
      time,
      agent: { id: "a" },
      principal: { id: "p" },
      intent: { goal: "g" },
    },
    ran: false,
    newSession: true,
    destinations: [],
    actionsInLastMinute: 0,
  });

/** A baseline that has learned one session start (not empty, so a lost write shows). */
export const learnedBaseline = (): Baseline => withSessionStart(emptyBaseline(), "s", "2026-11-28T09:00:00Z");

/** A separation-of-duties ledger record of principal p's first step, from event `eventId`. */
export const sodRecord = (eventId: string): SodRecord => ({
  sodId: "r",
  principalId: "p",
  agentId: "a",
  sessionId: "s1",
  eventId,
  time: "2026-11-28T09:00:00Z",
  capability: "x.submit",
});

/**
 * `count` baseline deltas as several processors would send them: random counts over small
 * key sets (the same keys recur across deltas), hours, peaks, last-seen times and feedback
 * entries, each from one of three partitions at rising offsets, one in eight a repeat of
 * its partition's last offset (a re-run batch). Deterministic for a seed. The caps are
 * tested in the core's spec.
 */
export function randomDeltas(seed: number, count: number): { delta: BaselineDelta; partition: number; through: number }[] {
  let x = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const keys = (prefix: string, n: number): [string, number][] => {
    const set = new Map<string, number>();
    for (let i = rnd(n); i > 0; i--) set.set(`${prefix}${rnd(12)}`, 1 + rnd(5));
    return [...set].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  };
  const offsets = [0, 0, 0];
  const out: { delta: BaselineDelta; partition: number; through: number }[] = [];
  for (let i = 0; i < count; i++) {
    const partition = rnd(3);
    const repeat = i > 0 && rnd(8) === 0;
    if (!repeat) offsets[partition] = (offsets[partition] as number) + 1 + rnd(40);
    const ms = Date.UTC(2026, 10, 1) + rnd(86_400) * 1000;
    const time = new Date(ms).toISOString();
    const hours = Array.from({ length: 24 }, () => (rnd(4) === 0 ? rnd(3) : 0));
    const feedback: [string, { factor: number; at: string }, number][] =
      rnd(4) === 0 ? [[`intent.x|cap${rnd(3)}`, { factor: Math.round((0.1 + rnd(80) / 100) * 1e6) / 1e6, at: time }, ms]] : [];
    out.push({
      partition,
      through: offsets[partition] as number,
      delta: {
        sessions: rnd(3),
        actions: rnd(20),
        counts: {
          capabilities: keys("cap.", 6),
          destinations: keys("https://d", 8),
          transitions: keys("a>", 4),
          ips: keys("10.0.0.", 3),
          ...(rnd(2) === 0 ? { attempted: keys("cap.", 4) } : {}),
        },
        ...(hours.some((h) => h > 0) ? { hours } : {}),
        ...(rnd(3) === 0 ? { peakPerMinute: rnd(50) } : {}),
        ...(rnd(3) === 0 ? { peakHarmful: rnd(9) } : {}),
        lastSeen: { time, ms },
        ...(feedback.length > 0 ? { feedback } : {}),
      },
    });
  }
  return out;
}
