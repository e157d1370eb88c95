import { describe, expect, it } from "vitest";
import { loadAvroSchemas, statusFromAvro, statusToAvro } from "../../src/codec/avro-codec.js";
import { SessionStatus } from "../../src/protocol/index.js";

// The session-status record in its three forms: zod (JSON), Avro and back.

const statuses: SessionStatus[] = [
  SessionStatus.parse({
    sessionId: "exp-1",
    agentId: "assistant-7",
    principalId: "alice",
    status: "restricted",
    revoked: false,
    stepUpRequired: false,
    removed: ["expense.approve"],
    deniedOn: [{ capability: "expense.approve", resourceId: "ER-1042" }],
    remaining: ["expense.submit"],
    review: { required: true, status: "pending" },
    riskScore: 0.35,
    time: "2026-11-28T09:00:09Z",
    lastCommandId: "cmd_1",
    policyVersion: "pol_1",
  }),
  SessionStatus.parse({
    sessionId: "s2",
    agentId: "a",
    principalId: "p",
    status: "active",
    revoked: false,
    stepUpRequired: false,
    removed: [],
    deniedOn: [],
    remaining: [],
    review: { required: false },
    riskScore: 0,
    time: "2026-11-28T09:00:00Z",
    policyVersion: "pol_1",
  }),
];

describe("session status: zod ⇄ Avro", () => {
  for (const s of statuses) {
    it(`${s.sessionId} round-trips through Avro bytes unchanged`, () => {
      const type = loadAvroSchemas().status;
      const bytes = type.toBuffer(statusToAvro(s));
      expect(SessionStatus.parse(statusFromAvro(type.fromBuffer(bytes)))).toEqual(s);
    });
  }

  it("Avro rejects a status missing a required field, as zod does", () => {
    const { riskScore: _dropped, ...partial } = statuses[1] as SessionStatus;
    expect(loadAvroSchemas().status.isValid(statusToAvro(partial as SessionStatus))).toBe(false);
    expect(SessionStatus.safeParse(partial).success).toBe(false);
  });
});
