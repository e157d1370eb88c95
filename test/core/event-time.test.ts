import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/protocol/index.js";
import { action, at, given, grantRequested, sessionStarted } from "../support/given-when-then.js";

// Event time is an RFC 3339 timestamp "with a zone (Z or ±hh:mm)" (protocol/primitives.ts).
// Comparisons must be by instant, not by string: these pin the places that compare strings.

const timed = (event: AgentEvent, time: string): AgentEvent => ({ ...event, time });
const goal = { goal: "Submit my expense report", capabilities: ["expense.*"] };

describe("event time with offsets and fractions", () => {
  it("control: all-UTC timestamps expire the intent", () =>
    given(sessionStarted(0, { ...goal, expiresAt: at(3600) }))
      .when(action(3601, "expense.submit"))
      .then(({ codes }) => expect(codes).toContain("intent.expired")));

  it("an intent expiring at 10:00+02:00 (08:00Z) is expired for an action at 09:00Z", () =>
    given(sessionStarted(0, { ...goal, expiresAt: "2026-11-28T10:00:00+02:00" }))
      .when(action(0, "expense.submit"))
      .then(({ codes }) => expect(codes).toContain("intent.expired")));

  it("an action half a second after expiresAt (fractional seconds) is expired", () =>
    given(sessionStarted(0, { ...goal, expiresAt: at(60) }))
      .when(action(60.5, "expense.submit"))
      .then(({ codes }) => expect(codes).toContain("intent.expired")));

  it("09:00Z after 10:00+02:00 (08:00Z) is in order", () =>
    given(sessionStarted(-7200, goal), timed(action(0, "expense.read", { id: "a" }), "2026-11-28T10:00:00+02:00"))
      .when(timed(action(0, "expense.submit", { id: "b" }), "2026-11-28T09:00:00Z"))
      .then(({ session }) => {
        expect(session.counters.outOfOrder).toBe(0);
        expect(session.lastEventTime).toBe("2026-11-28T09:00:00Z");
      }));

  it("09:30+02:00 (07:30Z) after 08:00Z is out of order", () =>
    given(sessionStarted(-3600, goal), timed(action(0, "expense.read", { id: "a" }), "2026-11-28T08:00:00Z"))
      .when(timed(action(0, "expense.submit", { id: "b" }), "2026-11-28T09:30:00+02:00"))
      .then(({ session }) => expect(session.counters.outOfOrder).toBe(1)));

  it("a just-in-time grant is kept until its expiry when later events carry an offset", () =>
    given(sessionStarted(0, goal), grantRequested(10, "expense.approve", { ttlSeconds: 600 }))
      .when(timed(action(0, "expense.read"), "2026-11-28T10:05:00+01:00"))
      .then(({ session }) => expect(session.jitGrants.map((g) => g.capability)).toEqual(["expense.approve"])));
});
