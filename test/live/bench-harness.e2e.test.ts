import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { haveData } from "../support/bench-data.js";
import { brokers, redisUrl } from "../support/stack-env.js";

// `npm run bench -- --quick` end to end against the real stack: the harness runs, prints one
// JSON object with every figure, and its live run over six partitions published exactly the
// commands an offline replay of the same events decides (its own check). No speed is
// asserted here (figures go in the README, not in timed tests). Needs the benchmark data,
// like test/bench/detection.test.ts: skipped without it, except under CI=true.

describe.runIf(haveData("test/live/bench-harness.e2e.test.ts"))("npm run bench --quick", () => {
  it("measures core, heap, no-op and live consumers and latency, and the live commands equal the offline replay's", { timeout: 900_000 }, async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "..", "..", "bench", "run.mjs"), "--quick"], {
      env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout) as Record<string, unknown> & {
      latencyMs: Record<string, number>;
      latencyProbes: { sent: number; answered: number };
      livePhaseSeconds: Record<string, number>;
      mcpGatewayLatencyMs: {
        calls: number;
        direct: { p50: number; p99: number };
        gateway: { p50: number; p99: number };
        added: { p50: number };
      };
    };
    for (const k of [
      "coreReplayEventsPerSec",
      "coreEndToEndEventsPerSec",
      "heapBytesPerSession",
      "noopConsumerEventsPerSec",
      "liveEventsPerSec",
      "liveRatio",
      "commandsExpected",
      "coreOverDecode",
      "liveOverCore",
      "liveCpuOverCore",
    ]) {
      expect(r[k], k).toBeGreaterThan(0);
    }
    expect(r.commandsSeen).toBe(r.commandsExpected);
    expect(r.commandsMatch).toBe(true);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50 as number);
    expect(r.latencyProbes.answered).toBe(r.latencyProbes.sent);
    expect(stderr).toContain("liveRatio");
    // Where the live run's time went: every phase measured, and deciding takes some of it.
    expect(Object.keys(r.livePhaseSeconds).sort()).toEqual(["commit", "decide", "decode", "persist", "publish"]);
    expect(r.livePhaseSeconds.decide).toBeGreaterThan(0);
    // The MCP gateway: both paths measured (every call answered, none refused), and what the gateway adds.
    const mcp = r.mcpGatewayLatencyMs;
    expect(mcp.calls).toBeGreaterThan(0);
    for (const path of [mcp.direct, mcp.gateway]) expect(path.p99).toBeGreaterThanOrEqual(path.p50);
    expect(mcp.gateway.p50).toBeGreaterThan(0);
    expect(mcp.added.p50).toBe(Math.round((mcp.gateway.p50 - mcp.direct.p50) * 100) / 100);
    expect(stderr).toContain("added by the gateway");
    // Many processors: one against three with a kill and a stop, all equal.
    expect(r.scaleOut).toMatchObject({ instances: 3, restarts: 2, commandsEqual: true, baselinesEqual: true, ledgerEqual: true, countsEqual: true });
  });
});
