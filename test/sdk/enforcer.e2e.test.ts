import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Command } from "../../src/protocol/index.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { createPublisher } from "../../src/sdk/publisher.js";
import { brokers } from "../support/stack-env.js";
import { collect, isolatedEnv, jsonValues, processorSigner, produce, trustedKeys, waitFor } from "../support/live.js";
import { SIGNATURE_HEADER } from "../../src/protocol/signature.js";

// Both SDKs against the real broker and the live processor: the manager's agent files a
// report and tries to approve it; a separate enforcer sees the downgrade and denies the
// approval; duplicates change nothing; a restarted enforcer recovers from the status topic;
// every applied command is acknowledged on vigil.acks.

const alice = { agent: { id: "assistant-7" }, principal: { id: "alice" } };
const report = { type: "expense_report", id: "ER-7" };
describe("enforcement SDK with the live processor", () => {
  it("applies the processor's commands at once, de-duplicates, recovers, acknowledges", { timeout: 120_000 }, async () => {
    const env = isolatedEnv("sdk-enf");
    const config = loadConfig(env);
    const running = await startVigil(env);
    const prefix = env.VIGIL_TOPIC_PREFIX;
    const publisher = await createPublisher({ brokers, topic: config.topics.events });
    const enforcers: Enforcer[] = [];
    try {
      const enforcer = await createEnforcer({ brokers, topicPrefix: prefix, enforcerId: "gateway-1", verify: await trustedKeys(env) });
      enforcers.push(enforcer);
      await enforcer.start();
      const changes: string[] = [];
      enforcer.on("change", (id, _view, cause) => changes.push(`${id}:${"commandId" in cause ? cause.type : "status"}`));

      await publisher.sessionStarted({
        ...alice,
        sessionId: "s-exp",
        eventId: "s-exp#0",
        time: "2026-11-28T09:00:00Z",
        intent: { goal: "File my trip report and get it approved" },
        grants: ["expense.submit", "expense.approve"],
      });
      await publisher.action({
        ...alice,
        sessionId: "s-exp",
        eventId: "s-exp#1",
        time: "2026-11-28T09:00:05Z",
        action: { capability: "expense.submit" },
        resource: report,
      });
      expect(enforcer.check("s-exp", "expense.approve", "ER-7")).toEqual({ outcome: "allow" });

      const sentAt = performance.now();
      await publisher.action({
        ...alice,
        sessionId: "s-exp",
        eventId: "s-exp#2",
        time: "2026-11-28T09:00:09Z",
        action: { capability: "expense.approve" },
        resource: report,
        outcome: "attempted",
      });
      expect(await waitFor(() => enforcer.check("s-exp", "expense.approve", "ER-7").outcome === "deny")).toBe(true);
      const latencyMs = performance.now() - sentAt;
      expect(latencyMs).toBeLessThan(10_000);
      expect(enforcer.check("s-exp", "expense.submit")).toEqual({ outcome: "allow" });

      // check() is local: no I/O, microseconds.
      const t0 = performance.now();
      for (let i = 0; i < 100_000; i++) enforcer.check("s-exp", "expense.approve", "ER-7");
      const perCheckUs = ((performance.now() - t0) * 1000) / 100_000;
      expect(perCheckUs).toBeLessThan(50);

      // A duplicate delivery of the same command changes nothing.
      const [record] = await collect(config.topics.commands, (m) => m.length >= 1, 20_000);
      const [command] = jsonValues<Command>(record ? [record] : []);
      const before = changes.length;
      // Behind it on the same (single) partition, a marker command for another session (signed
      // as the processor would): once the enforcer has applied the marker, it has read the duplicate too.
      const marker = { ...command, commandId: `${command?.commandId}-marker`, sessionId: "s-marker" };
      const markerValue = Buffer.from(JSON.stringify(marker));
      const signer = await processorSigner(env);
      await produce(config.topics.commands, [
        { key: "s-exp", value: record?.value ?? null, headers: record?.headers ?? {} },
        { key: "s-marker", value: markerValue, headers: { [SIGNATURE_HEADER]: await signer.sign(config.topics.commands, markerValue) } },
      ]);
      expect(await waitFor(() => changes.includes("s-marker:downgrade"))).toBe(true);
      expect(changes.slice(before).filter((c) => c.endsWith(":downgrade"))).toEqual(["s-marker:downgrade"]);

      // A new enforcer starts from the compacted status topic.
      const late = await createEnforcer({ brokers, topicPrefix: prefix, enforcerId: "gateway-2", acks: false, verify: await trustedKeys(env) });
      enforcers.push(late);
      await late.start();
      expect(late.check("s-exp", "expense.approve", "ER-7").outcome).toBe("deny");

      // One acknowledgement per applied command: the command and the marker, not the duplicate.
      const acks = jsonValues<{ commandId: string; enforcerId: string }>(
        await collect(config.topics.acks, (m) => m.some((a) => a.value?.toString().includes(marker.commandId)), 20_000),
      );
      expect(acks).toEqual([
        expect.objectContaining({ commandId: command?.commandId, enforcerId: "gateway-1" }),
        expect.objectContaining({ commandId: marker.commandId, enforcerId: "gateway-1" }),
      ]);
      process.stdout.write(`time from publish to enforced deny: ${latencyMs.toFixed(0)} ms; check(): ${perCheckUs.toFixed(2)} µs\n`);
    } finally {
      for (const e of enforcers) await e.stop();
      await publisher.close();
      await running.stop();
    }
  });
});
