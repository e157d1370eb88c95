import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { isolatedEnv, metric, produce, untilProcessed } from "../support/live.js";
import { smallSession } from "../support/sessions.js";

// Bounded state at volume (`npm run test:soak`): one processor in this (forked, --expose-gc)
// process holds 100,000 active sessions on three partitions, against the real broker and
// Redis. Reported: heap per active session (garbage-collected heap with them held, less the
// heap of the idle processor), then the same after the idle sweep dropped them
// (VIGIL_HOT_IDLE_SECONDS), which must give the memory back.

const SESSIONS = 100_000;
const IDLE_SECONDS = 120;
const gc = (globalThis as { gc?: () => void }).gc;

const heapAfterGc = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
};

describe("bounded state (soak)", () => {
  it(`holds ${SESSIONS.toLocaleString("en")} active sessions, reports heap per session, and gives it back once they are idle`, async () => {
    expect(gc, "the soak runs with --expose-gc").toBeTypeOf("function");
    const env = isolatedEnv("soak-sessions", { VIGIL_TOPIC_PARTITIONS: "3", VIGIL_HOT_IDLE_SECONDS: String(IDLE_SECONDS) });
    const config = loadConfig(env);
    let running: Running | undefined;
    try {
      running = await startVigil(env);
      const port = running.httpPort;
      // One warm-up session, so the idle heap includes the processor's first-batch allocations.
      await produce(config.topics.events, smallSession(-1, "warm"));
      await untilProcessed(config.kafka.groupId, config.topics.events, 60_000);
      const idleHeap = await heapAfterGc();
      const t0 = Date.now();
      for (let i = 0; i < SESSIONS; i += 2000) {
        await produce(config.topics.events, Array.from({ length: Math.min(2000, SESSIONS - i) }, (_, j) => smallSession(i + j, "s")).flat());
      }
      await untilProcessed(config.kafka.groupId, config.topics.events, 900_000);
      const seconds = (Date.now() - t0) / 1000;
      const active = await metric(port, "vigil_sessions_active");
      const heldHeap = await heapAfterGc();
      const perSession = (heldHeap - idleHeap) / SESSIONS;
      // Idle sessions go after IDLE_SECONDS, at the next sweep (every 30 s).
      const deadline = Date.now() + (IDLE_SECONDS + 90) * 1000;
      let left = active;
      while (left > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
        left = await metric(port, "vigil_sessions_active");
      }
      const afterHeap = await heapAfterGc();
      process.stdout.write(
        `bounded state: ${SESSIONS} sessions (${2 * SESSIONS} events) in ${seconds.toFixed(0)} s; ${active} active; ` +
          `heap idle ${(idleHeap / 2 ** 20).toFixed(1)} MiB, holding them ${(heldHeap / 2 ** 20).toFixed(1)} MiB = ${perSession.toFixed(0)} B per session; ` +
          `after the idle sweep ${left} active, heap ${(afterHeap / 2 ** 20).toFixed(1)} MiB\n`,
      );
      expect(active).toBe(SESSIONS + 1); // and the warm-up session
      expect(perSession).toBeLessThan(16_384);
      expect(left).toBe(0);
      expect(afterHeap - idleHeap).toBeLessThan((heldHeap - idleHeap) / 4);
    } finally {
      await running?.stop();
    }
  });
});
