import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { Command } from "../../src/protocol/index.js";
import { replayLineCommands } from "../support/expected-commands.js";
import { isolatedEnv, jsonValues, metric, produce, readAll, untilProcessed } from "../support/live.js";
import { smallSession } from "../support/sessions.js";

// Idle sessions leave the processor's memory (VIGIL_HOT_IDLE_SECONDS), not Redis: against the
// real broker and Redis, 300 sessions are held, then dropped from memory by the idle sweep
// with no traffic at all, and their next events are still decided from the state in Redis
// (the commands equal one in-memory replay). `npm run test:soak` holds 100,000 (heap per
// session in docs/operations.md).

const SESSIONS = 300;

describe("idle sessions leave memory (live)", () => {
  it("drops idle sessions from memory without traffic, and decides their next events from Redis", async () => {
    const env = isolatedEnv("idle", { VIGIL_HOT_IDLE_SECONDS: "2", VIGIL_TOPIC_PARTITIONS: "2" });
    const config = loadConfig(env);
    const first = Array.from({ length: SESSIONS }, (_, i) => smallSession(i, "idle")).flat();
    // Later: every tenth session reaches outside its declared scope.
    const later = Array.from({ length: SESSIONS / 10 }, (_, j) => {
      const e = JSON.parse((smallSession(j * 10, "idle")[1] as { value: string }).value) as Record<string, unknown>;
      return {
        key: e.sessionId as string,
        value: JSON.stringify({
          ...e,
          eventId: `${e.sessionId as string}#2`,
          time: "2026-11-28T09:01:40Z",
          action: { capability: "payments.transfer", kind: "write" },
          resource: { type: "payment", id: "p-1", classification: "confidential" },
        }),
      };
    });
    let running: Running | undefined;
    try {
      running = await startVigil(env);
      const port = running.httpPort;
      await produce(config.topics.events, first);
      await untilProcessed(config.kafka.groupId, config.topics.events);
      const held = await metric(port, "vigil_sessions_active");
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(SESSIONS);
      // No traffic: only the sweep can drop them (every min(idle, 30 s) = 2 s here).
      let active = held;
      const deadline = Date.now() + 15_000;
      while (active > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        active = await metric(port, "vigil_sessions_active");
      }
      expect(active).toBe(0);
      await produce(config.topics.events, later);
      await untilProcessed(config.kafka.groupId, config.topics.events);
    } finally {
      await running?.stop();
    }
    const got = jsonValues<Command>(await readAll(config.topics.commands));
    const want = await replayLineCommands([...first, ...later].map((m) => m.value));
    expect(want.length).toBeGreaterThanOrEqual(SESSIONS / 10);
    // Two partitions: the same commands, in another order.
    const byId = (a: Command, b: Command) => a.commandId.localeCompare(b.commandId);
    expect(got.sort(byId)).toEqual(want.sort(byId));
  });
});
