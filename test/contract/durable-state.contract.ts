import { describe, expect, it } from "vitest";
import type { DurableState } from "../../src/app/durable-state.js";
import { baselineDelta, initialSession, mergeBaseline } from "../../src/core/index.js";
import type { Baseline, BaselineDelta } from "../../src/core/index.js";
import { learnedBaseline, randomDeltas, sodRecord } from "./fixtures.js";

// One contract for every DurableState adapter (docs/style.md, rule 6): the in-memory twin runs
// it as a unit test, Redis as an integration test.

const session = (id: string) => ({ ...initialSession({ sessionId: id, agent: { id: "a" }, principal: { id: "p" } }), started: true });

export function durableStateContract(name: string, make: () => Promise<{ state: DurableState; close?: () => Promise<void> }>) {
  describe(`DurableState contract: ${name}`, () => {
    it("loads nothing it was not given", async () => {
      const { state, close } = await make();
      const loaded = await state.load({ sessions: ["nope"], baselines: [{ kind: "agent", id: "nope" }], sodKeys: ["nope"] });
      expect([loaded.sessions.size, loaded.baselines.size, loaded.sod.size]).toEqual([0, 0, 0]);
      await close?.();
    });

    it("persists a batch and loads it back equal, with the offset it reflects", async () => {
      const { state, close } = await make();
      const baseline = learnedBaseline();
      const record = sodRecord("e1");
      await state.persist({
        sessions: [{ state: session("s1"), partition: 2, offset: "41" }],
        baselines: [{ kind: "principal", id: "p", delta: baselineDelta(undefined, baseline) as BaselineDelta }],
        sodAppends: [
          { key: "r|x|R1", record },
          { key: "r|x|R1", record: { ...record, eventId: "e2" } },
        ],
        cases: [],
      });
      const loaded = await state.load({ sessions: ["s1"], baselines: [{ kind: "principal", id: "p" }], sodKeys: ["r|x|R1"] });
      expect(loaded.sessions.get("s1")).toEqual({ state: session("s1"), partition: 2, offset: "41" });
      expect(loaded.baselines.get("principal:p")).toEqual(baseline);
      expect(loaded.sod.get("r|x|R1")?.map((r) => r.eventId)).toEqual(["e1", "e2"]);
      await close?.();
    });

    it("merges baseline deltas from many writers as the reference merge does, each partition's offset once", async () => {
      const { state, close } = await make();
      const deltas = randomDeltas(7, 60);
      let expected: Baseline | undefined;
      const seen = new Map<string, number>();
      for (const { delta, partition, through } of deltas) {
        await state.persist({
          sessions: [],
          baselines: [{ kind: "agent", id: "shared", delta }],
          sodAppends: [],
          cases: [],
          log: { topic: "t.merge", partition, through: String(through), create: true },
        });
        // A delta at or below its partition's last merged offset is a repeat: not merged again.
        if ((seen.get(String(partition)) ?? -1) >= through) continue;
        seen.set(String(partition), through);
        expected = mergeBaseline(expected, delta);
      }
      const loaded = await state.load({ sessions: [], baselines: [{ kind: "agent", id: "shared" }], sodKeys: [] });
      expect(loaded.baselines.get("agent:shared")).toEqual(expected);
      expect(expected?.sessions).toBeGreaterThan(0);
      await close?.();
    });

    it("a delta adds to what another writer stored meanwhile (no last-writer-wins)", async () => {
      const { state, close } = await make();
      const one = learnedBaseline();
      const delta = baselineDelta(undefined, one) as BaselineDelta;
      for (const partition of [0, 1, 2]) {
        await state.persist({
          sessions: [],
          baselines: [{ kind: "agent", id: "a", delta }],
          sodAppends: [],
          cases: [],
          log: { topic: "t.lww", partition, through: "5", create: true },
        });
      }
      const loaded = await state.load({ sessions: [], baselines: [{ kind: "agent", id: "a" }], sodKeys: [] });
      expect(loaded.baselines.get("agent:a")?.sessions).toBe(3 * one.sessions);
      await close?.();
    });

    it("overwrites snapshots; appends ledger records", async () => {
      const { state, close } = await make();
      const record = sodRecord("e1");
      await state.persist({ sessions: [{ state: session("s1"), partition: 0, offset: "1" }], baselines: [], sodAppends: [{ key: "k", record }], cases: [] });
      await state.persist({
        sessions: [{ state: { ...session("s1"), ended: true }, partition: 0, offset: "7" }],
        baselines: [],
        sodAppends: [{ key: "k", record }],
        cases: [],
      });
      const loaded = await state.load({ sessions: ["s1"], baselines: [], sodKeys: ["k"] });
      expect(loaded.sessions.get("s1")?.offset).toBe("7");
      expect(loaded.sessions.get("s1")?.state.ended).toBe(true);
      expect(loaded.sod.get("k")).toHaveLength(2);
      await close?.();
    });

    it("records how far into a topic-partition its state reaches, per topic and partition", async () => {
      const { state, close } = await make();
      const log = { topic: "t.events", partition: 1 };
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log })).through).toBeUndefined();
      // Not created by a batch that does not start the state (its position vanished: a flush).
      await state.persist({ sessions: [], baselines: [], sodAppends: [], cases: [], log: { ...log, through: "7" } });
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log })).through).toBeUndefined();
      await state.persist({ sessions: [], baselines: [], sodAppends: [], cases: [], log: { ...log, through: "41", create: true } });
      await state.persist({
        sessions: [{ state: session("s1"), topic: log.topic, partition: 1, offset: "99" }],
        baselines: [],
        sodAppends: [],
        cases: [],
        log: { ...log, through: "99" },
      });
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log })).through).toBe("99");
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log: { ...log, partition: 2 } })).through).toBeUndefined();
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log: { topic: "other", partition: 1 } })).through).toBeUndefined();
      await close?.();
    });

    it("keeps review cases: opened, added to, decided; lists them newest first, pending by default", async () => {
      const { state, close } = await make();
      const summary = (caseId: string, openedAt: string) => ({
        caseId,
        sessionId: `s-${caseId}`,
        agentId: "a",
        principalId: "p",
        state: "pending" as const,
        openedAt,
        reasons: [{ code: "sod.self_approval", capability: "expense.approve", hard: true }],
      });
      const entry = (eventId: string) => ({ time: "2026-11-28T09:00:05Z", eventId, type: "action", capability: "expense.approve", level: "downgrade" });
      await state.persist({
        sessions: [],
        baselines: [],
        sodAppends: [],
        cases: [
          { kind: "open", summary: summary("c1", "2026-11-28T09:00:00Z"), timeline: [entry("e1"), entry("e2")] },
          { kind: "open", summary: summary("c2", "2026-11-28T10:00:00Z"), timeline: [] },
          {
            kind: "command",
            caseId: "c1",
            sessionId: "s-c1",
            command: { commandId: "cmd_1", type: "downgrade", time: "2026-11-28T09:00:05Z", reasons: ["sod.self_approval"] },
          },
          { kind: "timeline", caseId: "c1", sessionId: "s-c1", entry: entry("e3") },
          { kind: "reasons", caseId: "c1", sessionId: "s-c1", reasons: [...summary("c1", "").reasons, { code: "intent.out_of_scope", hard: false }] },
        ],
      });
      expect((await state.listCases()).map((c) => c.caseId)).toEqual(["c2", "c1"]);
      expect(await state.pendingCount()).toBe(2);
      const c1 = await state.getCase("c1");
      expect(c1?.timeline.map((e) => e.eventId)).toEqual(["e1", "e2", "e3"]);
      expect(c1?.commands.map((c) => c.commandId)).toEqual(["cmd_1"]);
      expect(c1?.reasons.map((r) => r.code)).toEqual(["sod.self_approval", "intent.out_of_scope"]);
      await state.persist({
        sessions: [],
        baselines: [],
        sodAppends: [],
        cases: [
          {
            kind: "decided",
            caseId: "c1",
            sessionId: "s-c1",
            state: "overturned",
            decidedAt: "2026-11-28T11:00:00Z",
            reviewer: "bob",
            note: "fine",
            revoked: false,
          },
        ],
      });
      expect((await state.listCases()).map((c) => c.caseId)).toEqual(["c2"]);
      expect((await state.listCases({ state: "overturned" })).map((c) => [c.caseId, c.reviewer, c.note])).toEqual([["c1", "bob", "fine"]]);
      expect((await state.listCases({ state: "all" })).map((c) => c.caseId)).toEqual(["c1", "c2"]);
      expect(await state.pendingCount()).toBe(1);
      expect(await state.getCase("nope")).toBeUndefined();
      await close?.();
    });

    it("keeps a case's explanation, goal, severity and evidence, and a later hold's replaces them", async () => {
      const { state, close } = await make();
      const conflict = {
        role: "conflict" as const,
        eventId: "e0",
        sessionId: "s-other",
        agentId: "a2",
        capability: "expense.submit",
        time: "2026-11-28T08:00:00Z",
      };
      await state.persist({
        sessions: [],
        baselines: [],
        sodAppends: [],
        cases: [
          {
            kind: "open",
            summary: {
              caseId: "cx",
              sessionId: "s-cx",
              agentId: "a",
              principalId: "p",
              state: "pending",
              openedAt: "2026-11-28T09:00:00Z",
              reasons: [{ code: "sod.self_approval", hard: true }],
              explanation: "Agent a tried expense.approve on R1, but principal p already did expense.submit on it.",
              goal: "Clear my approvals",
              severity: "medium",
              riskScore: 0.4,
              evidence: [conflict],
            },
            timeline: [],
          },
        ],
      });
      const opened = await state.getCase("cx");
      expect(opened).toMatchObject({
        explanation: expect.stringMatching(/^Agent a tried/),
        goal: "Clear my approvals",
        severity: "medium",
        riskScore: 0.4,
        evidence: [conflict],
      });
      expect((await state.listCases()).find((c) => c.caseId === "cx")?.severity).toBe("medium");
      await state.persist({
        sessions: [],
        baselines: [],
        sodAppends: [],
        cases: [{ kind: "explained", caseId: "cx", sessionId: "s-cx", explained: { explanation: "Later.", severity: "high", riskScore: 0.9, evidence: [] } }],
      });
      expect(await state.getCase("cx")).toMatchObject({ explanation: "Later.", goal: "Clear my approvals", severity: "high", riskScore: 0.9, evidence: [] });
      await close?.();
    });

    it("answers ping", async () => {
      const { state, close } = await make();
      expect(await state.ping()).toBe(true);
      await close?.();
    });
  });
}
