import { emptyBaseline, learn } from "../../src/core/index.js";
import type { Baseline, SodRecord } from "../../src/core/index.js";

// Values the contract suites store and read back.

/** A baseline that has learned one session start (not empty, so a lost write shows). */
export const learnedBaseline = (): Baseline =>
  learn(emptyBaseline(), {
    event: {
      type: "session.started",
      eventId: "e",
      sessionId: "s",
      time: "2026-11-28T09:00:00Z",
      agent: { id: "a" },
      principal: { id: "p" },
      intent: { goal: "g" },
    },
    ran: false,
    newSession: true,
    destinations: [],
    actionsInLastMinute: 0,
  });

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
