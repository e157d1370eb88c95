import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import { createPublisher } from "../../src/sdk/publisher.js";
import { brokers } from "../support/stack-env.js";
import { isolatedEnv, trustedKeys, waitFor } from "../support/live.js";

// The enforcer's memory is bounded by live and restricted sessions: an ended session with no
// restriction is forgotten after `forgetEndedAfterMs`; one that ended restricted is kept
// (forgetting it would allow it again).

describe("enforcer memory", () => {
  it("forgets ended unrestricted sessions and keeps ended restricted ones", { timeout: 120_000 }, async () => {
    const env = isolatedEnv("enf-memory");
    const config = loadConfig(env);
    const running = await startVigil(env);
    const publisher = await createPublisher({ brokers, topic: config.topics.events, lingerMs: 1 });
    const enforcer = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, acks: false, verify: await trustedKeys(env), forgetEndedAfterMs: 0 });
    try {
      await enforcer.start();
      const alice = { agent: { id: "assistant-7" }, principal: { id: "alice", roles: ["manager"] } };
      const report = { type: "expense_report", id: "ER-9", sensitivity: ["financial"] };
      // Twenty benign sessions that end, and one that approves its own report, then ends.
      for (let i = 0; i < 20; i++) {
        const who = { ...alice, sessionId: `benign-${i}` };
        await publisher.sessionStarted({ ...who, intent: { goal: "Read my expense reports" }, grants: ["expense.read"] });
        await publisher.action({ ...who, action: { capability: "expense.read", kind: "read" }, resource: report });
        await publisher.sessionEnded({ ...who, reason: "done" });
      }
      const held = { ...alice, sessionId: "held-1" };
      await publisher.sessionStarted({ ...held, intent: { goal: "File my trip report and get it approved" }, grants: ["expense.submit", "expense.approve"] });
      await publisher.action({ ...held, action: { capability: "expense.submit", kind: "write" }, resource: report });
      await publisher.action({ ...held, action: { capability: "expense.approve", kind: "write" }, resource: report, outcome: "attempted" });
      const end = await publisher.sessionEnded({ ...held, reason: "done" });
      await publisher.flush();

      expect(await waitFor(() => enforcer.counts().forgotten >= 20)).toBe(true);
      expect(await enforcer.decided("held-1", end.time, 30_000)).toBe(true);
      expect(enforcer.session("benign-3")).toBeUndefined();
      expect(enforcer.check("held-1", "expense.approve", "ER-9").outcome).toBe("deny");
      expect(enforcer.counts()).toMatchObject({ forgotten: 20, sessions: 1 });
    } finally {
      await enforcer.stop();
      await publisher.close();
      await running.stop();
    }
  });
});
