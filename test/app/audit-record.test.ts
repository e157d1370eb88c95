import { describe, expect, it } from "vitest";
import { auditRecord } from "../../src/app/batch-processor.js";
import type { DecisionRecord } from "../../src/core/index.js";

// The audit record is built field by field for speed (app/batch-processor.ts). It must stay
// the JSON of `{ ...decision, policySource, partition, offset }`: `Required<DecisionRecord>`
// below stops compiling when the decision gains a field, and the comparison then fails until
// auditRecord copies it.

const full: Required<DecisionRecord> = {
  eventId: "e-1",
  eventType: "action",
  sessionId: "s-1",
  agentId: "a",
  principalId: "p",
  time: "2026-12-01T10:00:00Z",
  policyVersion: "v1",
  riskScore: 0.7,
  signals: [{ code: "intent.out_of_scope", message: "m", weight: 0.4, decision: "revoke" }],
  level: "step_up",
  commandIds: ["c-1"],
  verdict: { outcome: "deny", reason: "session revoked" },
  ruleErrors: [{ ruleId: "r", error: "x" }],
  judgement: { judge: "model", drift: true, confidence: 0.9, reason: "r" },
  feedback: [{ code: "intent.out_of_scope", capability: "mail.send", factor: 0.5 }],
};

describe("audit records", () => {
  it("carry every field of the decision, in order, then where it was decided", () => {
    const spread = { ...full, policySource: "policy.yaml", partition: 3, offset: "42" };
    expect(JSON.stringify(auditRecord(full, "policy.yaml", 3, "42"))).toBe(JSON.stringify(spread));
  });

  it("leave out the optional fields a decision does not have", () => {
    const { verdict: _v, judgement: _j, feedback: _f, ...plain } = full;
    const spread = { ...plain, policySource: "default", partition: 0, offset: "7" };
    expect(JSON.stringify(auditRecord(plain, "default", 0, "7"))).toBe(JSON.stringify(spread));
    expect(Object.keys(auditRecord(plain, "default", 0, "7"))).not.toContain("verdict");
  });
});
