import { describe, expect, it } from "vitest";
import { runHostile } from "./hostile-volume.js";

// 50,000 hostile messages through the decoder and the batch pipeline (the 1,000,000 run is
// `npm run test:soak`, test/soak/hostile-volume.soak.ts). Fixed seed: a failure names its
// batch and seed, and reproduces.

describe("hostile input at volume (50k)", () => {
  it("accounts for every input, never crashes or hangs, and keeps per-session state bounded", { timeout: 600_000 }, async () => {
    const r = await runHostile(50_000, 20261201);
    process.stdout.write(`hostile 50k: ${JSON.stringify(r)}\n`);
    expect(r.inputs).toBe(50_000);
    expect(r.decided + r.repeats + r.deadLettered).toBe(r.inputs);
    // Each family of hostile input reached the pipeline, and both outcomes occurred.
    expect(r.decided).toBeGreaterThan(5_000);
    expect(r.deadLettered).toBeGreaterThan(5_000);
    expect(Object.keys(r.byReason).sort()).toEqual(expect.arrayContaining(["empty", "invalid_event", "unparseable_json", "output_too_large", "oversized"]));
    // Bounded state: the largest snapshot stays far below a tool output's size, whatever was sent.
    expect(r.maxSnapshotBytes).toBeLessThan(256 * 1024);
    // Linear work per byte: even the slowest batch relative to its size stays under 5 µs per byte plus a fixed 500 ms.
    expect(r.slowest.ms).toBeLessThan(500 + (5 * r.slowest.bytes) / 1000);
  });
});
