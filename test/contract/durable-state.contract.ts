import { describe, expect, it } from "vitest";
import type { DurableState } from "../../src/app/durable-state.js";
import { initialSession } from "../../src/core/index.js";
import { learnedBaseline, sodRecord } from "./fixtures.js";

// One contract for every DurableState adapter (STYLE.md rule 6): the in-memory twin runs
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
        baselines: [{ kind: "principal", id: "p", baseline }],
        sodAppends: [
          { key: "r|x|R1", record },
          { key: "r|x|R1", record: { ...record, eventId: "e2" } },
        ],
        reviews: [{ sessionId: "s1", commandId: "cmd_1", type: "revoke", time: "2026-11-28T09:00:00Z", reasons: ["rule.x"] }],
      });
      const loaded = await state.load({ sessions: ["s1"], baselines: [{ kind: "principal", id: "p" }], sodKeys: ["r|x|R1"] });
      expect(loaded.sessions.get("s1")).toEqual({ state: session("s1"), partition: 2, offset: "41" });
      expect(loaded.baselines.get("principal:p")).toEqual(baseline);
      expect(loaded.sod.get("r|x|R1")?.map((r) => r.eventId)).toEqual(["e1", "e2"]);
      await close?.();
    });

    it("overwrites snapshots and baselines; appends ledger records", async () => {
      const { state, close } = await make();
      const record = sodRecord("e1");
      await state.persist({ sessions: [{ state: session("s1"), partition: 0, offset: "1" }], baselines: [], sodAppends: [{ key: "k", record }], reviews: [] });
      await state.persist({
        sessions: [{ state: { ...session("s1"), ended: true }, partition: 0, offset: "7" }],
        baselines: [],
        sodAppends: [{ key: "k", record }],
        reviews: [],
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
      await state.persist({ sessions: [], baselines: [], sodAppends: [], reviews: [], log: { ...log, through: "41" } });
      await state.persist({
        sessions: [{ state: session("s1"), topic: log.topic, partition: 1, offset: "99" }],
        baselines: [],
        sodAppends: [],
        reviews: [],
        log: { ...log, through: "99" },
      });
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log })).through).toBe("99");
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log: { ...log, partition: 2 } })).through).toBeUndefined();
      expect((await state.load({ sessions: [], baselines: [], sodKeys: [], log: { topic: "other", partition: 1 } })).through).toBeUndefined();
      await close?.();
    });

    it("answers ping", async () => {
      const { state, close } = await make();
      expect(await state.ping()).toBe(true);
      await close?.();
    });
  });
}
