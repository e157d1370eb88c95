import { describe, expect, it } from "vitest";
import type { StateStore } from "../../src/app/ports.js";
import { emptyBaseline, initialSession } from "../../src/core/index.js";
import { learnedBaseline, sodRecord } from "./fixtures.js";

// One contract for every StateStore (docs/style.md, rule 6): the pipeline's synchronous view of
// state. Replay runs on the in-memory store, the live processor on a batch's overlay; both
// must answer the same way or replay would not equal live.

const session = (id: string) => initialSession({ sessionId: id, agent: { id: "a" }, principal: { id: "p" } });
const record = sodRecord;
const baseline = learnedBaseline();

export function stateStoreContract(name: string, make: () => StateStore) {
  describe(`StateStore contract: ${name}`, () => {
    it("knows nothing it was not given", () => {
      const store = make();
      expect(store.session("nope")).toBeUndefined();
      expect(store.baseline("agent", "nope")).toBeUndefined();
      expect(store.sodRecords("nope")).toEqual([]);
    });

    it("gives back the last session put, by id", () => {
      const store = make();
      store.putSession(session("s1"));
      store.putSession({ ...session("s2"), started: true });
      store.putSession({ ...session("s1"), ended: true });
      expect(store.session("s1")).toEqual({ ...session("s1"), ended: true });
      expect(store.session("s2")?.started).toBe(true);
    });

    it("keeps agent and principal baselines apart, even under the same id", () => {
      const store = make();
      store.putBaseline("agent", "x", baseline);
      expect(store.baseline("agent", "x")).toEqual(baseline);
      expect(store.baseline("principal", "x")).toBeUndefined();
      store.putBaseline("principal", "x", emptyBaseline());
      expect(store.baseline("agent", "x")).toEqual(baseline);
      expect(store.baseline("principal", "x")).toEqual(emptyBaseline());
    });

    it("appends ledger records in order, per key", () => {
      const store = make();
      store.appendSod("k1", record("e1"));
      store.appendSod("k2", record("e2"));
      store.appendSod("k1", record("e3"));
      expect(store.sodRecords("k1").map((r) => r.eventId)).toEqual(["e1", "e3"]);
      expect(store.sodRecords("k2").map((r) => r.eventId)).toEqual(["e2"]);
    });
  });
}
