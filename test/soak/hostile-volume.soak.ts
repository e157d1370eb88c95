import { describe, expect, it } from "vitest";
import { runHostile } from "../fuzz/hostile-volume.js";

// 1,000,000 hostile messages (fast-check, and mutations of real benchmark events) through
// the decoder and the batch pipeline, in 20 rounds of 50,000 with different seeds, each on
// a fresh in-memory state. After each round the heap is measured after a full GC: it must
// stay level (nothing is retained from one round to the next), not grow with the inputs.

const gc = (globalThis as { gc?: () => void }).gc;

describe("hostile input at volume (1M, soak)", () => {
  it("accounts for every input, never crashes or hangs; per-session state and the heap stay bounded", async () => {
    expect(gc, "run with --expose-gc (vitest.soak.config.ts)").toBeTypeOf("function");
    const rounds = 20;
    const heaps: number[] = [];
    let inputs = 0;
    let bytes = 0;
    let maxSnapshot = 0;
    let worstNsPerByte = 0;
    const reasons: Record<string, number> = {};
    const t0 = performance.now();
    const runs = await (async () => {
      const out = [];
      for (let r = 0; r < rounds; r++) {
        const run = await runHostile(50_000, 1_000_000 + r * 7919);
        expect(run.decided + run.repeats + run.deadLettered).toBe(run.inputs);
        inputs += run.inputs;
        bytes += run.bytes;
        maxSnapshot = Math.max(maxSnapshot, run.maxSnapshotBytes);
        worstNsPerByte = Math.max(worstNsPerByte, (run.slowest.ms * 1e6) / Math.max(1, run.slowest.bytes));
        for (const [k, v] of Object.entries(run.byReason)) reasons[k] = (reasons[k] ?? 0) + v;
        gc?.();
        heaps.push(process.memoryUsage().heapUsed);
        out.push(run);
      }
      return out;
    })();
    const summary = {
      inputs,
      megabytes: Math.round(bytes / 1e6),
      decided: runs.reduce((n, r) => n + r.decided, 0),
      repeats: runs.reduce((n, r) => n + r.repeats, 0),
      deadLettered: runs.reduce((n, r) => n + r.deadLettered, 0),
      reasons,
      maxSnapshotBytes: maxSnapshot,
      worstBatchNsPerByte: Math.round(worstNsPerByte),
      heapAfterGcMb: heaps.map((h) => Math.round(h / 1e6)),
      seconds: Math.round((performance.now() - t0) / 1000),
    };
    process.stdout.write(`hostile 1M: ${JSON.stringify(summary)}\n`);
    expect(inputs).toBe(1_000_000);
    expect(maxSnapshot).toBeLessThan(256 * 1024);
    // Each round starts from a fresh state, so the heap after GC must not climb round after round.
    const first = heaps.slice(0, 5).reduce((a, b) => Math.max(a, b), 0);
    const last = heaps.slice(-5).reduce((a, b) => Math.max(a, b), 0);
    expect(last).toBeLessThan(first + 64 * 1024 * 1024);
  });
});
