import { describe, expect, it } from "vitest";
import { compilePolicy, initialSession } from "../../src/core/index.js";
import type { SessionState } from "../../src/core/index.js";
import { transition } from "../../src/core/decide.js";
import type { Signal } from "../../src/core/scorers/scorer.js";
import { action } from "../support/given-when-then.js";

// The ladder of responses (issue 27, docs/detection.md "Which findings can revoke"):
// without strong evidence a session's first score-driven response asks (step-up) and a
// score-driven revoke stops at a downgrade. Strong: a finding with its own decision, a
// strong code at full weight, a declined step-up, a confirmed hold.

const policy = compilePolicy();
const off = compilePolicy("version: 1\nscoring:\n  ladder: { enabled: false }\n");
const call = action(1, "mail.send", { kind: "egress" });
const fresh = (): SessionState => ({ ...initialSession(call), grants: ["mail.send", "files.read"] });
const medium: Signal = { code: "intent.instructed_call", message: "an order asked for this call", weight: 0.55, capability: "mail.send" };
const unrelated: Signal = { code: "intent.unrelated_capability", message: "unrelated", weight: 0.63, capability: "mail.send" };
const instructed = (weight: number): Signal => ({ code: "intent.instructed_value", message: "a value only an order named", weight, capability: "mail.send" });

describe("the ladder of responses", () => {
  it("asks first: a score past downgrade or revoke on medium findings demands a step-up in a session not yet asked", () => {
    expect(transition(policy, fresh(), call, 0.75, [medium]).draft?.type).toBe("step_up");
    expect(transition(policy, fresh(), call, 0.95, [medium, unrelated]).draft?.type).toBe("step_up");
    // Without the ladder the same scores downgrade and revoke at once.
    expect(transition(off, fresh(), call, 0.75, [medium]).draft?.type).toBe("downgrade");
    expect(transition(off, fresh(), call, 0.95, [medium, unrelated]).draft?.type).toBe("revoke");
  });

  it("a session already asked is downgraded, never revoked, on medium findings", () => {
    const asked = transition(policy, fresh(), call, 0.6, [medium]);
    expect(asked.draft?.type).toBe("step_up");
    const session = { ...fresh(), enforcement: asked.enforcement };
    const next = transition(policy, session, call, 0.97, [medium, unrelated]);
    expect(next.draft?.type).toBe("downgrade");
    expect(next.enforcement.revoked).toBe(false);
  });

  it("revokes on strong evidence: a strong code at full weight, a declined step-up, a confirmed hold, a finding's own decision", () => {
    expect(transition(policy, fresh(), call, 0.95, [instructed(0.8)]).draft?.type).toBe("revoke");
    // The same code weakened by a factor (a read, a mention) is not strong.
    expect(transition(policy, fresh(), call, 0.95, [instructed(0.6)]).draft?.type).toBe("step_up");
    const declined = { ...fresh(), stepUps: { accepted: 0, declined: 1 } };
    expect(transition(policy, declined, call, 0.95, [medium]).draft?.type).toBe("revoke");
    const confirmed = {
      ...fresh(),
      enforcement: { ...fresh().enforcement, removed: ["files.read"], review: { required: true, status: "confirmed" as const } },
    };
    expect(transition(policy, confirmed, call, 0.95, [medium]).draft?.type).toBe("revoke");
    const rule: Signal = { code: "rule.no-mail", message: "a rule", weight: 0, decision: "revoke" };
    expect(transition(policy, fresh(), call, 0.1, [rule]).draft?.type).toBe("revoke");
  });

  it("after a declined step-up, a call with no finding that could hold it alone is not revoked, whatever risk is left", () => {
    const declined = { ...fresh(), enforcement: { ...fresh().enforcement, stepUpRequired: true }, stepUps: { accepted: 0, declined: 1 } };
    const weak: Signal = { code: "baseline.new_capability", message: "first use", weight: 0.2, capability: "mail.send" };
    const next = transition(policy, declined, call, 0.95, [weak]);
    expect(next.enforcement.revoked).toBe(false);
    expect(transition(policy, declined, call, 0.95, []).enforcement.revoked).toBe(false);
    // A finding that could hold the call alone still revokes.
    expect(transition(policy, declined, call, 0.95, [medium]).draft?.type).toBe("revoke");
    // Off: the risk left from before revokes.
    const any = compilePolicy("version: 1\nscoring:\n  ladder: { enabled: true, declineNeedsFinding: false }\n");
    expect(transition(any, declined, call, 0.95, [weak]).draft?.type).toBe("revoke");
  });
});
