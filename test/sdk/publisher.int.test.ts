import { describe, expect, it } from "vitest";
import { InvalidEventError, MAX_OUTPUT_TEXT, createPublisher, toolOutput } from "../../src/sdk/publisher.js";
import { brokers, uniqueName } from "../support/stack-env.js";
import { collect, kafka } from "../support/live.js";

const who = { agent: { id: "agent-1" }, principal: { id: "alice" } };

async function topic(): Promise<string> {
  const name = uniqueName("sdk-pub");
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  return name;
}

describe("publisher SDK against the real broker", () => {
  it("keys every event by its session and puts one principal's sessions on one partition (partitionBy: session spreads them)", async () => {
    const t = await topic();
    const byPrincipal = await createPublisher({ brokers, topic: t });
    const bySession = await createPublisher({ brokers, topic: t, partitionBy: "session" });
    try {
      for (let i = 0; i < 12; i++) {
        await byPrincipal.sessionStarted({ ...who, sessionId: `p-${i}`, intent: { goal: "g" } });
        await bySession.sessionStarted({ ...who, sessionId: `s-${i}`, intent: { goal: "g" } });
      }
      await Promise.all([byPrincipal.flush(), bySession.flush()]);
      const seen = await collect(t, (m) => m.length >= 24, 20_000);
      const partitions = (prefix: string) => new Set(seen.filter((m) => m.key?.startsWith(prefix)).map((m) => m.partition));
      expect(seen.filter((m) => m.key?.startsWith("p-"))).toHaveLength(12);
      expect(partitions("p-").size).toBe(1);
      expect(partitions("s-").size).toBeGreaterThan(1);
    } finally {
      await Promise.all([byPrincipal.close(), bySession.close()]);
    }
  });

  it("validates before sending: a bad event names the field and nothing is sent", async () => {
    const t = await topic();
    const publisher = await createPublisher({ brokers, topic: t });
    try {
      await expect(publisher.action({ ...who, sessionId: "s1", action: { capability: 42 as unknown as string } })).rejects.toThrow(
        new InvalidEventError("invalid action event: action.capability: expected string, received number", "action.capability"),
      );
      await expect(publisher.sessionStarted({ ...who, sessionId: "s1", intent: { goal: "g" }, time: "yesterday" })).rejects.toThrow(/time: /);
      await publisher.sessionEnded({ ...who, sessionId: "marker" });
      const seen = await collect(t, (m) => m.length >= 1, 20_000);
      expect(seen.map((m) => m.key)).toEqual(["marker"]);
    } finally {
      await publisher.close();
    }
  });

  it("publishes an action.result after its action, keyed by session; an oversized or invalid one is refused before sending", async () => {
    const t = await topic();
    const publisher = await createPublisher({ brokers, topic: t });
    try {
      const action = await publisher.action({ ...who, sessionId: "r1", action: { capability: "mail.read", kind: "read" }, outcome: "attempted" });
      const long = "Dear Alice, ".repeat(10_000);
      await expect(
        publisher.actionResult({ ...who, sessionId: "r1", actionEventId: action.eventId, outcome: "success", output: { text: long } }),
      ).rejects.toThrow(
        expect.objectContaining({ name: "InvalidEventError", field: "output.text", message: expect.stringContaining(`over the limit of ${MAX_OUTPUT_TEXT}`) }),
      );
      await expect(
        publisher.actionResult({
          ...who,
          sessionId: "r1",
          actionEventId: action.eventId,
          outcome: "success",
          output: {},
          source: { trust: "maybe" as "unknown" },
        }),
      ).rejects.toBeInstanceOf(InvalidEventError);
      const sent = await publisher.actionResult({
        ...who,
        sessionId: "r1",
        actionEventId: action.eventId,
        outcome: "success",
        output: toolOutput(long, { mediaType: "message/rfc822" }),
        source: { trust: "untrusted", origin: "mailbox:alice" },
      });
      const seen = await collect(t, (m) => m.length >= 2, 20_000);
      expect(seen.map((m) => m.key)).toEqual(["r1", "r1"]);
      const values = seen.map((m) => JSON.parse(m.value?.toString() ?? "{}") as Record<string, unknown>);
      expect(values.map((v) => v.type)).toEqual(["action", "action.result"]);
      expect(values[1]).toEqual(sent);
      expect(values[1]).toMatchObject({
        actionEventId: action.eventId,
        output: { bytes: long.length, truncated: true, mediaType: "message/rfc822" },
        source: { trust: "untrusted" },
      });
      expect((values[1]?.output as { text: string }).text).toHaveLength(MAX_OUTPUT_TEXT);
    } finally {
      await publisher.close();
    }
  });

  it("keys by session, batches, fills id and time, and applies backpressure", async () => {
    const t = await topic();
    let clock = Date.parse("2026-11-28T09:00:00Z");
    let ids = 0;
    const publisher = await createPublisher({
      brokers,
      topic: t,
      maxPending: 50,
      batchSize: 20,
      now: () => new Date((clock += 1000)),
      newId: () => `e${ids++}`,
    });
    let maxPending = 0;
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, publisher.pending)), 1);
    try {
      const sends = [];
      for (let i = 0; i < 600; i++) sends.push(publisher.action({ ...who, sessionId: `s${i % 7}`, action: { capability: "wiki.read" } }));
      const sent = await Promise.all(sends);
      await publisher.flush();
      clearInterval(sampler);
      expect(maxPending).toBeGreaterThan(10);
      expect(maxPending).toBeLessThanOrEqual(50);
      expect(sent[0]).toMatchObject({ eventId: "e0", time: "2026-11-28T09:00:01.000Z", type: "action" });
      const seen = await collect(t, (m) => m.length >= 600, 30_000);
      expect(seen).toHaveLength(600);
      expect(seen.every((m) => m.key === (JSON.parse(m.value?.toString() ?? "{}") as { sessionId: string }).sessionId)).toBe(true);
    } finally {
      clearInterval(sampler);
      await publisher.close();
    }
  });
});
