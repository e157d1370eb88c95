import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM bench script without types
import { DEPLOYMENT, TARGETS, coreRatios, liveRatios, perEvent, project, rows, sizing } from "../../bench/report.mjs";
// @ts-expect-error: plain ESM bench script without types
import { interleave } from "../../bench/workload.mjs";
import { benchData } from "../support/bench-data.js";

// The bench JSON's ratio and sizing keys (issue 26): each new key is in the output, has its
// target in the table, and is computed from the measurements it names. The live figures
// come from a made-up processor window; the core ones from a real --core-only run.

const usage = {
  seconds: 20,
  events: 60_000,
  batches: 60,
  cpuSeconds: 15,
  threadCpuSeconds: { main: 10, other: 5 },
  redis: {
    commands: 90_000,
    roundTrips: 120,
    bytesOut: 180_000_000,
    bytesIn: 6_000_000,
    byCommand: { set: 50_000, get: 40_000 },
    byKey: { "set session": { count: 50_000, chars: 160_000_000 } },
  },
  kafka: { bytesIn: 60_000_000, bytesOut: 30_000_000 },
  redisServer: { commands: 120_000, bytesIn: 200_000_000, bytesOut: 7_000_000 },
  heapUsedBytes: 200e6,
  rssBytes: 400e6,
  activeSessions: 4_000,
};
const result = {
  coreDecodeValidateEventsPerSec: 90_000,
  coreReplayEventsPerSec: 12_000,
  coreEndToEndEventsPerSec: 10_000,
  heapBytesPerSession: 2_100,
  liveEventsPerSec: 3_000,
  livePartitions: 6,
  cpuMicrosPerEvent: { coreReplay: 100 },
};
const footprint = { session: { keys: 5_000, bytes: 25_000_000 }, baseline: { keys: 10, bytes: 50_000 }, log: { keys: 4, bytes: 400 } };

describe("bench report (issue 26)", () => {
  it("has a target for every new ratio, in the direction the issue gives", () => {
    expect(TARGETS).toMatchObject({ coreOverDecode: 0.33, liveOverCore: 0.8, liveCpuOverCore: 1.25, heapBytesPerSession: 2048 });
  });

  it("computes the ratios from the measurements of one run", () => {
    expect(coreRatios(result)).toEqual({ coreOverDecode: 0.133 });
    // 15 s of CPU over 60,000 events is 250 µs per event, against 100 in the core replay.
    expect(liveRatios(result, usage)).toEqual({ liveOverCore: 0.3, liveCpuOverCore: 2.5 });
  });

  it("gives the per-event costs and the memory per session of the live run", () => {
    const s = sizing(result, usage, footprint, { date: "2026-12-07", cores: 2 });
    expect(s).toMatchObject({
      date: "2026-12-07",
      cores: 2,
      processors: 1,
      partitionsPerProcessor: 6,
      window: { seconds: 20, events: 60_000, batches: 60, eventsPerBatch: 1000 },
      processorCoresUsed: 0.75,
      cpuMicrosPerEvent: 250,
      cpuMicrosPerEventByThread: { main: 166.7, other: 83.3 },
      eventsPerSecPerCore: 4000,
      redis: {
        opsPerEvent: 1.5,
        roundTripsPerEvent: 0.002,
        bytesToRedisPerEvent: 3000,
        bytesFromRedisPerEvent: 100,
        opsByCommandPerEvent: { set: 0.833, get: 0.667 },
        byKeyPerEvent: { "set session": { perEvent: 0.833, charsEach: 3200 } },
        serverWide: { opsPerEvent: 2, bytesInPerEvent: 3333, bytesOutPerEvent: 117 },
      },
      kafka: { bytesFetchedPerEvent: 1000, bytesSentPerEvent: 500 },
      memory: { heapBytesPerSession: 2100, redisBytesPerSession: 5000, redisSessions: 5000, redisBytesPerBaseline: 5000, processorActiveSessions: 4000 },
    });
    expect(s.accounting.redis).toMatch(/bench\/meter\.mjs/);
  });

  it("projects a deployment of 100,000 sessions at a call a second from the per-event costs", () => {
    const s = sizing(result, usage, footprint, {});
    const d = project(perEvent(usage), s.memory);
    expect(DEPLOYMENT).toEqual({ sessions: 100_000, callsPerSecond: 1, eventsPerCall: 2 });
    expect(d).toMatchObject({
      eventsPerSec: 200_000,
      processorCores: 50,
      processorsAtFullCore: 50,
      redisOpsPerSec: 300_000,
      redisMBPerSecIn: 600,
      kafkaMBPerSecFetched: 200,
      processorHeapMB: 210,
      redisSessionsMB: 500,
    });
  });

  it("prints the new keys with their targets in the table", () => {
    const s = sizing(result, usage, footprint, {});
    const full = {
      ...result,
      ...coreRatios(result),
      ...liveRatios(result, usage),
      cpuMicrosPerEvent: { coreReplay: 100, offlineSameEvents: 95, live: 250 },
      sizing: { ...s, spread: { eventsPerSec: 1000, ...perEvent(usage) } },
      noopConsumerEventsPerSec: 100_000,
      liveRatio: 0.03,
      latencyMs: { p50: 1, p95: 2, p99: 3 },
      latencyFloorMs: { p50: 1, p95: 2, p99: 3 },
      latencyFloorBatches: { phaseMs: { decide: 1 } },
      commandsExpected: 1,
      commandsSeen: 1,
      commandsMatch: true,
      mcpGatewayLatencyMs: { gateway: { p50: 1, p95: 2, p99: 3 }, direct: { p50: 1, p95: 2, p99: 3 }, added: { p50: 1, p95: 2, p99: 3 } },
    };
    type Row = [string, unknown, string, boolean | undefined];
    const table = new Map<string, { value: unknown; target: string; ok: boolean | undefined }>(
      (rows(full, false) as Row[]).map(([name, value, target, ok]) => [name, { value, target, ok }]),
    );
    expect(table.get("coreOverDecode")).toEqual({ value: 0.133, target: "≥ 0.33", ok: false });
    expect(table.get("liveOverCore")).toEqual({ value: 0.3, target: "≥ 0.8", ok: false });
    expect(table.get("liveCpuOverCore")).toEqual({ value: 2.5, target: "≤ 1.25", ok: false });
    expect(table.get("heapBytesPerSession")?.target).toBe("≤ 2048");
    expect(rows(full, true).map((r: unknown[]) => r[0])).toContain("coreOverDecode");
  });
});

describe("the spread-out workload (bench/workload.mjs interleave)", () => {
  it("keeps every message and each session's order, one event per session a round", () => {
    const m = (partition: number, key: string, n: number) => ({ partition, key, value: `${key}#${n}` });
    const messages = [m(0, "a", 0), m(0, "a", 1), m(0, "a", 2), m(0, "b", 0), m(0, "b", 1), m(1, "c", 0), m(1, "c", 1)];
    expect(interleave(messages).map((x: { value: string }) => x.value)).toEqual(["a#0", "b#0", "c#0", "a#1", "b#1", "c#1", "a#2"]);
  });
});

const dir = benchData("test/bench/report.test.ts");
describe.skipIf(dir === undefined)("npm run bench --core-only", () => {
  it("prints coreOverDecode, the CPU per event and the targets in its JSON", () => {
    const run = spawnSync(process.execPath, [join(import.meta.dirname, "..", "..", "bench", "run.mjs"), "--core-only", "--quick"], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.coreOverDecode).toBeCloseTo(out.coreReplayEventsPerSec / out.coreDecodeValidateEventsPerSec, 2);
    expect(out.cpuMicrosPerEvent.coreReplay).toBeGreaterThan(0);
    expect(out.cpuMicrosPerEvent.decodeValidate).toBeGreaterThan(0);
    expect(out.targets).toEqual(TARGETS);
    for (const key of ["coreReplayEventsPerSec", "coreEndToEndEventsPerSec", "coreDecodeValidateEventsPerSec", "heapBytesPerSession"])
      expect(out[key]).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/coreOverDecode\s+[\d.]+\s+≥ 0.33/);
  }, 300_000);
});
