import { describe, expect, it } from "vitest";
import { action, given, sessionStarted } from "../support/given-when-then.js";

// Data above the intent's ceiling, and sensitive tags the goal does not imply.

describe("sensitivity scorer", () => {
  describe("sensitivity.above_ceiling", () => {
    const internalOnly = sessionStarted(0, { goal: "Summarise the sales reports", capabilities: ["reports.*"], maxSensitivity: "internal" });

    it("fires for restricted data under an internal ceiling, weighted up", () =>
      given(internalOnly)
        .when(action(10, "reports.read", { kind: "read", resource: { id: "Q4", classification: "restricted" } }))
        .then(({ codes, decision }) => {
          expect(codes).toEqual(["sensitivity.above_ceiling"]);
          expect(decision.signals[0]?.weight).toBeCloseTo(0.75, 6);
        }));

    it("does not fire for data at the ceiling", () =>
      given(internalOnly)
        .when(action(10, "reports.read", { kind: "read", resource: { id: "Q4", classification: "internal" } }))
        .then(({ codes }) => expect(codes).not.toContain("sensitivity.above_ceiling")));

    it("does not fire when the intent declares no ceiling", () =>
      given(sessionStarted(0, { goal: "Summarise the sales reports", capabilities: ["reports.*"] }))
        .when(action(10, "reports.read", { kind: "read", resource: { id: "Q4", classification: "restricted" } }))
        .then(({ codes }) => expect(codes).toEqual([])));
  });

  describe("sensitivity.unexpected_tag", () => {
    it("fires for secret data the goal does not imply", () =>
      given(sessionStarted(0, { goal: "Summarise the quarterly sales numbers", capabilities: ["db.*"] }))
        .when(action(10, "db.read", { kind: "read", resource: { id: "prod", sensitivity: ["secret"] } }))
        .then(({ codes, decision }) => {
          expect(codes).toContain("sensitivity.unexpected_tag");
          expect(decision.signals.find((s) => s.code === "sensitivity.unexpected_tag")?.weight).toBeCloseTo(0.4, 6);
        }));

    it("is not raised when the goal implies the tag", () =>
      given(sessionStarted(0, { goal: "Rotate the database credentials", capabilities: ["secrets.*"] }))
        .when(action(10, "secrets.rotate", { kind: "write", resource: { id: "db-main", sensitivity: ["secret"] } }))
        .then(({ codes, commands }) => {
          expect(codes).not.toContain("sensitivity.unexpected_tag");
          expect(codes).not.toContain("rule.secrets-outside-intent");
          expect(commands).toEqual([]);
        }));

    it("weighs a low tag (pii) at half the weight of a secret", () =>
      given(sessionStarted(0, { goal: "Summarise the quarterly sales numbers", capabilities: ["db.*"] }))
        .when(action(10, "db.read", { kind: "read", resource: { id: "t", sensitivity: ["pii"] } }))
        .then(({ codes, decision, commands }) => {
          expect(codes).toEqual(["sensitivity.unexpected_tag"]);
          expect(decision.signals[0]?.weight).toBeCloseTo(0.2, 6);
          expect(commands).toEqual([]);
        }));

    it("is not raised for pii when the goal names customers", () =>
      given(sessionStarted(0, { goal: "Update the customer contact list", capabilities: ["crm.*"] }))
        .when(action(10, "crm.update", { resource: { id: "c-1", sensitivity: ["pii"] } }))
        .then(({ codes }) => expect(codes).toEqual([])));
  });
});
