import { describe, expect, it } from "vitest";
import { CAEP_EVENT_TYPES, Command } from "../../src/protocol/index.js";
import { action, at, given, grantRequested, sessionStarted } from "../support/given-when-then.js";

// One command per change of enforcement state, idempotent on eventId, with deterministic
// ids and the same decision as a CAEP event.

const db = sessionStarted(0, { goal: "Summarise the quarterly sales numbers", capabilities: ["db.*"] });
const secretRead = action(10, "db.read", { kind: "read", resource: { id: "prod", sensitivity: ["secret"] } });
const deleteBilling = (t: number) => action(t, "billing.delete", { kind: "delete" });

describe("commands", () => {
  it("after a revoke, further risky events produce no command", () =>
    given(db, secretRead, action(20, "db.read", { kind: "read", resource: { id: "vault", sensitivity: ["credentials"] } }))
      .when(deleteBilling(30))
      .then(({ commands, history, codes, decision }) => {
        expect(history.map((h) => h.commands.map((c) => c.type))).toEqual([[], ["revoke"], []]);
        expect(codes).toContain("intent.out_of_scope");
        expect(commands).toEqual([]);
        expect(decision.verdict?.outcome).toBe("deny");
      }));

  it("the same capability implicated again at downgrade level after its downgrade produces no command", () =>
    given(db, deleteBilling(10))
      .when(deleteBilling(3610))
      .then(({ commands, history, decision }) => {
        expect(history[1]?.commands.map((c) => c.type)).toEqual(["downgrade"]);
        expect(decision.level).toBe("downgrade");
        expect(decision.verdict?.outcome).toBe("deny");
        expect(commands).toEqual([]);
      }));

  it("escalating from downgrade to revoke is a change and produces one revoke", () =>
    given(db, deleteBilling(10))
      .when(deleteBilling(11))
      .then(({ types, decision }) => {
        expect(decision.riskScore).toBeGreaterThan(0.9);
        expect(types).toEqual(["revoke"]);
      }));

  it("a duplicate eventId changes nothing", () =>
    given(db, deleteBilling(10))
      .when(deleteBilling(10))
      .then(({ duplicate, commands, out, session, history }) => {
        expect(duplicate).toBe(true);
        expect(commands).toEqual([]);
        expect(out.decision).toBeUndefined();
        expect(out.sodAppends).toEqual([]);
        expect(session).toEqual(history[1]?.session);
      }));

  it("commandId is deterministic across fresh worlds and differs between sessions", () => {
    const run = (session: string) =>
      given(sessionStarted(0, { goal: "Summarise sales", capabilities: ["db.*"] }, { session }))
        .when(action(10, "billing.delete", { session, kind: "delete" }))
        .then(({ commands }) => expect(commands).toHaveLength(1)).commands[0]?.commandId;
    expect(run("s1")).toMatch(/^cmd_[0-9a-f]{32}$/);
    expect(run("s1")).toBe(run("s1"));
    expect(run("s2")).not.toBe(run("s1"));
  });

  it("every command satisfies the wire contract", () =>
    given(db, deleteBilling(10))
      .when(secretRead)
      .then(({ commands, history }) => {
        for (const c of [...history.flatMap((h) => h.commands), ...commands]) expect(Command.safeParse(c).success, JSON.stringify(c)).toBe(true);
      }));

  describe("CAEP event per command type", () => {
    const caep = (type: string, expected: string) => (c: Command | undefined) => {
      expect(c?.type).toBe(type);
      expect(c?.caep.eventType).toBe(expected);
      expect(c?.caep.subject).toEqual({ format: "opaque", id: "s1" });
      expect(c?.caep.event_timestamp).toBe(Date.parse(c?.time ?? "") / 1000);
    };
    it("revoke → session-revoked", () =>
      given(db)
        .when(secretRead)
        .then(({ commands }) => caep("revoke", CAEP_EVENT_TYPES.sessionRevoked)(commands[0])));
    it("step_up → assurance-level-change", () =>
      given(db)
        .when(action(10, "billing.update", { kind: "write" }))
        .then(({ commands }) => caep("step_up", CAEP_EVENT_TYPES.assuranceLevelChange)(commands[0])));
    it("downgrade → token-claims-change with the remaining capabilities", () =>
      given(sessionStarted(0, { goal: "Summarise sales", capabilities: ["db.*"] }, { grants: ["db.read", "billing.delete"] }))
        .when(deleteBilling(10))
        .then(({ commands }) => {
          caep("downgrade", CAEP_EVENT_TYPES.tokenClaimsChange)(commands[0]);
          expect(commands[0]?.caep.claims).toEqual({ capabilities: ["db.read"] });
        }));
    it("grant → token-claims-change", () =>
      given(db)
        .when(grantRequested(10, "db.write"))
        .then(({ commands }) => caep("grant", CAEP_EVENT_TYPES.tokenClaimsChange)(commands[0])));
    it("deny_grant → token-claims-change", () =>
      given(db)
        .when(grantRequested(10, "billing.delete"))
        .then(({ commands }) => caep("deny_grant", CAEP_EVENT_TYPES.tokenClaimsChange)(commands[0])));
  });

  it("out-of-order events do not crash and are counted", () =>
    given(db, action(200, "db.read", { kind: "read" }))
      .when(action(150, "db.list", { kind: "read" }))
      .then(({ session, decision }) => {
        expect(session.counters.outOfOrder).toBe(1);
        expect(session.lastEventTime).toBe(at(200));
        expect(decision.time).toBe(at(150));
      }));
});
