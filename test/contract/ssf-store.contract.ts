import { afterEach, describe, expect, it } from "vitest";
import type { SsfStore } from "../../src/app/ssf.js";
import { DELIVERY_POLL, DELIVERY_PUSH } from "../../src/protocol/ssf.js";
import type { StreamRecord } from "../../src/protocol/ssf.js";

// What the SSF transmitter needs of its store, for every implementation (in memory, Redis).

const stream = (id: string, receiver = "idp"): StreamRecord => ({
  streamId: id,
  receiver,
  delivery: { method: DELIVERY_POLL },
  eventsRequested: [],
  status: "enabled",
  createdAt: "2026-12-01T10:00:00.000Z",
});

export function ssfStoreContract(name: string, open: () => Promise<{ store: SsfStore; close?: () => Promise<void> }>) {
  describe(`SSF store contract: ${name}`, () => {
    let close: (() => Promise<void>) | undefined;
    const fresh = async () => {
      const o = await open();
      close = o.close;
      return o.store;
    };
    afterEach(async () => {
      await close?.();
      close = undefined;
    });

    it("keeps streams, updates them in place, lists and deletes them", async () => {
      const store = await fresh();
      expect(await store.getStream("a")).toBeUndefined();
      await store.putStream(stream("a"));
      await store.putStream(stream("b", "other"));
      await store.putStream({ ...stream("a"), status: "paused", delivery: { method: DELIVERY_PUSH, endpointUrl: "https://r.example/ssf" } });
      expect(await store.getStream("a")).toMatchObject({ status: "paused", delivery: { method: DELIVERY_PUSH, endpointUrl: "https://r.example/ssf" } });
      expect((await store.listStreams()).map((s) => s.streamId).sort()).toEqual(["a", "b"]);
      await store.enqueue("a", { jti: "j1", token: "t1" }, 1, 10);
      await store.deleteStream("a");
      expect(await store.getStream("a")).toBeUndefined();
      expect(await store.size("a")).toBe(0);
      expect((await store.listStreams()).map((s) => s.streamId)).toEqual(["b"]);
    });

    it("queues in order, drops a jti seen before (even once delivered), refuses past the cap", async () => {
      const store = await fresh();
      await store.putStream(stream("s"));
      for (const j of ["j3", "j1", "j2"]) expect(await store.enqueue("s", { jti: j, token: `token-${j}` }, 1000, 3)).toBe("queued");
      expect(await store.enqueue("s", { jti: "j1", token: "again" }, 1001, 3)).toBe("duplicate");
      expect(await store.enqueue("s", { jti: "j4", token: "token-j4" }, 1002, 3)).toBe("full");
      expect(await store.peek("s", 2)).toEqual([
        { jti: "j3", token: "token-j3" },
        { jti: "j1", token: "token-j1" },
      ]);
      expect(await store.remove("s", ["j3", "nope"])).toBe(1);
      expect(await store.enqueue("s", { jti: "j3", token: "token-j3" }, 1003, 3)).toBe("duplicate");
      expect(await store.enqueue("s", { jti: "j4", token: "token-j4" }, 1004, 3)).toBe("queued");
      expect((await store.peek("s", 10)).map((q) => q.jti)).toEqual(["j1", "j2", "j4"]);
      expect(await store.size("s")).toBe(3);
      await store.clear("s");
      expect(await store.size("s")).toBe(0);
      expect(await store.peek("s", 10)).toEqual([]);
    });

    it("keeps outboxes apart per stream", async () => {
      const store = await fresh();
      await store.enqueue("x", { jti: "same", token: "for-x" }, 1, 10);
      expect(await store.enqueue("y", { jti: "same", token: "for-y" }, 1, 10)).toBe("queued");
      expect(await store.peek("y", 10)).toEqual([{ jti: "same", token: "for-y" }]);
      expect(await store.remove("x", ["same"])).toBe(1);
      expect(await store.size("y")).toBe(1);
    });

    it("records push backoff state, zero when none", async () => {
      const store = await fresh();
      expect(await store.pushState("s")).toEqual({ failures: 0, nextAtMs: 0 });
      await store.setPushState("s", { failures: 3, nextAtMs: 123_456 });
      expect(await store.pushState("s")).toEqual({ failures: 3, nextAtMs: 123_456 });
    });

    it("a lock is held by one owner until it is released or expires", async () => {
      const store = await fresh();
      expect(await store.lock("push:s", "p1", 60_000)).toBe(true);
      expect(await store.lock("push:s", "p2", 60_000)).toBe(false);
      await store.unlock("push:s", "p2");
      expect(await store.lock("push:s", "p2", 60_000)).toBe(false);
      await store.unlock("push:s", "p1");
      expect(await store.lock("push:s", "p2", 60_000)).toBe(true);
      expect(await store.lock("short", "p1", 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.lock("short", "p2", 50)).toBe(true);
    });
  });
}
