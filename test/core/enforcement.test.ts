import { describe, expect, it } from "vitest";
import type { Enforcement } from "../../src/core/index.js";
import { check, initialEnforcement, isRestricted } from "../../src/core/index.js";

// check(): what an enforcement point applying Vigil's state answers for one call.

const state = (over: Partial<Enforcement>): Enforcement => ({ ...initialEnforcement, ...over });

describe("enforcement check()", () => {
  it("the initial state allows everything and is not restricted", () => {
    expect(check(initialEnforcement, "expense.approve", "R1")).toEqual({ outcome: "allow" });
    expect(isRestricted(initialEnforcement)).toBe(false);
  });

  it("a revoked session is denied every capability", () => {
    const revoked = state({ revoked: true, removed: [] });
    expect(check(revoked, "expense.read")).toEqual({ outcome: "deny", reason: "session revoked" });
    expect(check(revoked, "anything.else", "R9").outcome).toBe("deny");
  });

  it("a removed glob denies what it matches and nothing else", () => {
    const e = state({ removed: ["payments.*"] });
    expect(check(e, "payments.send").outcome).toBe("deny");
    expect(check(e, "payments.refund", "P1").outcome).toBe("deny");
    expect(check(e, "expense.submit")).toEqual({ outcome: "allow" });
    expect(check(e, "paymentsXsend")).toEqual({ outcome: "allow" });
  });

  it("deniedOn denies the capability on that resource only", () => {
    const e = state({ deniedOn: [{ capability: "expense.approve", resourceId: "R1" }] });
    expect(check(e, "expense.approve", "R1")).toEqual({ outcome: "deny", reason: "capability expense.approve denied on R1" });
    expect(check(e, "expense.approve", "R2")).toEqual({ outcome: "allow" });
    expect(check(e, "expense.submit", "R1")).toEqual({ outcome: "allow" });
    expect(check(e, "expense.approve")).toEqual({ outcome: "allow" });
    expect(isRestricted(e)).toBe(true);
  });

  it("stepUpRequired answers step_up for capabilities not denied", () => {
    const e = state({ stepUpRequired: true, removed: ["payments.send"] });
    expect(check(e, "expense.read")).toEqual({ outcome: "step_up", reason: "step-up authentication required" });
    expect(check(e, "payments.send").outcome).toBe("deny");
  });

  it("revocation wins over a step-up", () => {
    expect(check(state({ revoked: true, stepUpRequired: true }), "expense.read").outcome).toBe("deny");
  });
});
