import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { action, given, sessionStarted, specification } from "../support/given-when-then.js";

// Ordered patterns within a session: the default `exfiltration` (sensitive read, then external egress).

const crm = sessionStarted(0, { goal: "Email the customer list to our partner", capabilities: ["crm.*", "email.*"] });
const read = action(10, "crm.export", { kind: "read", resource: { id: "customers", sensitivity: ["pii"] } });

describe("sequence scorer", () => {
  it("a pii read then an external egress revokes, review pending, caused by both events", () =>
    given(crm, read)
      .when(action(20, "email.send", { kind: "egress", resource: { destination: "drop@evil.test", external: true } }))
      .then(({ codes, commands, types, session }) => {
        expect(codes).toContain("sequence.exfiltration");
        expect(types).toEqual(["revoke"]);
        expect(commands[0]?.review).toEqual({ required: true, status: "pending" });
        expect(commands[0]?.causedBy).toEqual([read.eventId, "s1/email.send@20"]);
        expect(commands[0]?.reasons[0]?.code).toBe("sequence.exfiltration");
        expect(session.enforcement.revoked).toBe(true);
      }));

  it("an internal egress (resource.external false) after the same read raises no sequence", () =>
    given(crm, read)
      .when(action(20, "email.send", { kind: "egress", resource: { destination: "team@corp.example", external: false } }))
      .then(({ codes, types }) => {
        expect(codes).not.toContain("sequence.exfiltration");
        expect(types).not.toContain("revoke");
      }));

  it("an external egress with no sensitive read before it raises no sequence", () =>
    given(crm, action(10, "crm.list", { kind: "read", resource: { id: "segments" } }))
      .when(action(20, "email.send", { kind: "egress", resource: { destination: "drop@evil.test", external: true } }))
      .then(({ codes }) => expect(codes).not.toContain("sequence.exfiltration")));

  it("the egress before the read does not match (order matters)", () =>
    given(crm, action(5, "email.send", { kind: "egress", resource: { external: true } }))
      .when(action(20, "crm.export", { kind: "read", resource: { id: "customers", sensitivity: ["pii"] } }))
      .then(({ codes }) => expect(codes).not.toContain("sequence.exfiltration")));

  describe("withinSeconds in a custom policy", () => {
    const policy = compilePolicy(`version: 1
sequences:
  - id: exfiltration
    first: { sensitivity: [pii] }
    then: { kind: [egress], external: true }
    withinSeconds: 60
    decision: revoke
`);
    const egressAt = (t: number) => action(t, "email.send", { kind: "egress", resource: { external: true } });

    it("fires inside the window", () =>
      specification(policy)
        .given(crm, read)
        .when(egressAt(70))
        .then(({ codes, types }) => {
          expect(codes).toContain("sequence.exfiltration");
          expect(types).toEqual(["revoke"]);
        }));

    it("does not fire outside the window", () =>
      specification(policy)
        .given(crm, read)
        .when(egressAt(71))
        .then(({ codes, types }) => {
          expect(codes).not.toContain("sequence.exfiltration");
          expect(types).not.toContain("revoke");
        }));
  });
});
