import { describe, expect, it } from "vitest";
import { checkView } from "../../src/sdk/enforcer.js";
import type { SessionView } from "../../src/sdk/enforcer.js";
import { initialEnforcement } from "../../src/protocol/enforcement.js";

// The enforcement point enforces a just-in-time grant itself: until its expiry by its own
// clock, and only on the resource it names.

const view = (grants: SessionView["grants"], enforcement = initialEnforcement): SessionView => ({ time: "2026-11-28T09:00:00Z", enforcement, grants });
const at = (iso: string) => Date.parse(iso);

describe("checkView: just-in-time grants at the enforcement point", () => {
  const grants = [{ capability: "payments.send", resourceId: "INV-9", expiresAt: "2026-11-28T09:10:00Z" }];

  it("allows the granted capability on its resource until it expires, then denies it", () => {
    expect(checkView(view(grants), "payments.send", "INV-9", at("2026-11-28T09:09:59Z"))).toEqual({ outcome: "allow" });
    expect(checkView(view(grants), "payments.send", "INV-9", at("2026-11-28T09:10:00Z"))).toEqual({
      outcome: "deny",
      reason: "just-in-time grant of payments.send expired at 2026-11-28T09:10:00Z",
    });
  });

  it("denies it on another resource, and leaves other capabilities alone", () => {
    expect(checkView(view(grants), "payments.send", "INV-10", at("2026-11-28T09:05:00Z"))).toEqual({
      outcome: "deny",
      reason: "payments.send is granted just in time only on INV-9",
    });
    expect(checkView(view(grants), "mail.send", undefined, at("2026-11-28T09:30:00Z"))).toEqual({ outcome: "allow" });
    expect(checkView(undefined, "payments.send", "INV-9", 0)).toEqual({ outcome: "allow" });
  });

  it("a grant without a resource covers every resource; Vigil's restrictions come first", () => {
    const open = [{ capability: "mail.send", expiresAt: "2026-11-28T09:10:00Z" }];
    expect(checkView(view(open), "mail.send", "anything", at("2026-11-28T09:00:01Z"))).toEqual({ outcome: "allow" });
    expect(checkView(view(open, { ...initialEnforcement, revoked: true }), "mail.send", undefined, at("2026-11-28T09:00:01Z"))).toEqual({
      outcome: "deny",
      reason: "session revoked",
    });
  });
});
