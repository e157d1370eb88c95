// What `npm run bench` derives from its measurements, and the table it prints: the ratios
// against the targets (issues 14 and 26), the CPU per event, the sizing figures and what a
// given deployment needs at those costs. Pure functions over the bench's result, so
// test/bench/report.test.ts checks the JSON's shape and arithmetic without the stack.

export const TARGETS = {
  coreReplayEventsPerSec: 100_000,
  coreOverDecode: 0.33,
  liveRatio: 0.8,
  liveOverCore: 0.8,
  liveCpuOverCore: 1.25,
  latencyP99Ms: 20,
  heapBytesPerSession: 2048,
  mcpAddedP50Ms: 10,
  mcpAddedP99Ms: 50,
};

/** The deployment the sizing section of docs/performance.md is computed for. */
export const DEPLOYMENT = { sessions: 100_000, callsPerSecond: 1, eventsPerCall: 2 };

const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
/** Two significant digits past the point for small figures, whole numbers for large ones. */
const fig = (x) => (Math.abs(x) >= 100 ? Math.round(x) : round(x, 2));

/** CPU microseconds per event of a `process.cpuUsage()` difference over `events` events. */
export function cpuMicrosPerEvent(usage, events) {
  return round((usage.user + usage.system) / events, 1);
}

/** coreOverDecode: the decision pipeline's rate against decoding and validating the same events, in one run. */
export function coreRatios(result) {
  return { coreOverDecode: round(result.coreReplayEventsPerSec / result.coreDecodeValidateEventsPerSec, 3) };
}

/**
 * liveOverCore (the live processor's rate against the core end to end, same run) and
 * liveCpuOverCore (the processor's CPU per event in its measured window against the core
 * replay's, process.cpuUsage() around it).
 */
export function liveRatios(result, usage) {
  const liveMicros = (1e6 * usage.cpuSeconds) / usage.events;
  return {
    liveOverCore: round(result.liveEventsPerSec / result.coreEndToEndEventsPerSec, 3),
    liveCpuOverCore: round(liveMicros / result.cpuMicrosPerEvent.coreReplay, 3),
  };
}

/**
 * Per-event costs of one live run, from the processor's measured window (`usage`, bench/live.mjs
 * liveRun): CPU, events/s per core used, its Redis commands (by command, and by command and
 * kind of key with the mean characters of their arguments) and bytes, its broker bytes, and
 * how large its batches were (state is loaded and written once per session a batch, so the
 * Redis figures depend on how many events of one session a batch holds).
 */
export function perEvent(usage) {
  const per = (x) => fig(x / usage.events);
  return {
    window: {
      seconds: round(usage.seconds, 1),
      events: usage.events,
      batches: usage.batches,
      eventsPerBatch: Math.round(usage.events / Math.max(1, usage.batches)),
    },
    processorCoresUsed: round(usage.cpuSeconds / usage.seconds, 2),
    cpuMicrosPerEvent: round((1e6 * usage.cpuSeconds) / usage.events, 1),
    // The main thread (JavaScript and GC pauses) and the others (V8's GC and compiler helpers, libuv).
    cpuMicrosPerEventByThread: Object.fromEntries(Object.entries(usage.threadCpuSeconds ?? {}).map(([k, v]) => [k, round((1e6 * v) / usage.events, 1)])),
    eventsPerSecPerCore: Math.round(usage.events / usage.cpuSeconds),
    // Main-thread garbage collection pauses by kind (process_cpu includes them, and the helpers' work on other threads).
    gcPauseMicrosPerEvent: Object.fromEntries(Object.entries(usage.gcSeconds ?? {}).map(([k, v]) => [k, round((1e6 * v) / usage.events, 1)])),
    redis: {
      opsPerEvent: per(usage.redis.commands),
      roundTripsPerEvent: round(usage.redis.roundTrips / usage.events, 4),
      bytesToRedisPerEvent: per(usage.redis.bytesOut),
      bytesFromRedisPerEvent: per(usage.redis.bytesIn),
      opsByCommandPerEvent: Object.fromEntries(Object.entries(usage.redis.byCommand).map(([c, n]) => [c, round(n / usage.events, 3)])),
      byKeyPerEvent: Object.fromEntries(
        Object.entries(usage.redis.byKey).map(([k, v]) => [k, { perEvent: round(v.count / usage.events, 3), charsEach: Math.round(v.chars / v.count) }]),
      ),
      serverWide: {
        opsPerEvent: per(usage.redisServer.commands),
        bytesInPerEvent: per(usage.redisServer.bytesIn),
        bytesOutPerEvent: per(usage.redisServer.bytesOut),
      },
    },
    kafka: {
      bytesFetchedPerEvent: per(usage.kafka.bytesIn),
      bytesSentPerEvent: per(usage.kafka.bytesOut),
    },
  };
}

/**
 * The sizing figures: the live run's per-event costs, what a processor holds per session
 * (heap, and Redis from the keys the run left: `footprint`, by kind of key), partitions per
 * processor and the machine they were measured on.
 */
export function sizing(result, usage, footprint, machine) {
  const sessions = footprint.session ?? { keys: 0, bytes: 0 };
  const baselines = footprint.baseline ?? { keys: 0, bytes: 0 };
  return {
    ...machine,
    processors: 1,
    partitionsPerProcessor: result.livePartitions,
    accounting: {
      redis:
        "the processor's own: commands counted in ioredis and bytes of its Redis connections (bench/meter.mjs); redis.serverWide is the Redis server's INFO deltas over the same window, which count every client of that shared Redis",
      kafka: "bytes of the processor's broker connections (bench/meter.mjs): fetched events in; produced records, fetch and commit requests out",
    },
    ...perEvent(usage),
    memory: {
      heapBytesPerSession: result.heapBytesPerSession,
      redisBytesPerSession: sessions.keys > 0 ? Math.round(sessions.bytes / sessions.keys) : 0,
      redisSessions: sessions.keys,
      redisBytesPerBaseline: baselines.keys > 0 ? Math.round(baselines.bytes / baselines.keys) : 0,
      redisBaselines: baselines.keys,
      redisKeys: footprint,
      processorHeapUsedBytes: usage.heapUsedBytes,
      processorRssBytes: usage.rssBytes,
      processorActiveSessions: usage.activeSessions,
    },
  };
}

/**
 * What `deployment` needs at the measured per-event costs: events/s, processor cores (and
 * processors: one decides on one thread, so one is at most one core busy), Redis commands and
 * bytes per second, broker bytes per second, memory for the open sessions. `s` is one run's
 * perEvent figures: the bench uses the spread-out run's (bench/workload.mjs interleave), whose
 * batches hold about one event per session, as a call a second per session gives. A linear
 * extrapolation of one 2-core machine's costs, not a measurement at that scale.
 */
export function project(s, memory, deployment = DEPLOYMENT) {
  const eventsPerSec = deployment.sessions * deployment.callsPerSecond * deployment.eventsPerCall;
  const cores = (eventsPerSec * s.cpuMicrosPerEvent) / 1e6;
  return {
    ...deployment,
    eventsPerSec,
    processorCores: round(cores, 1),
    processorsAtFullCore: Math.ceil(cores),
    redisOpsPerSec: Math.round(eventsPerSec * s.redis.opsPerEvent),
    redisRoundTripsPerSec: Math.round(eventsPerSec * s.redis.roundTripsPerEvent),
    redisMBPerSecIn: round((eventsPerSec * s.redis.bytesToRedisPerEvent) / 1e6, 1),
    redisMBPerSecOut: round((eventsPerSec * s.redis.bytesFromRedisPerEvent) / 1e6, 1),
    kafkaMBPerSecFetched: round((eventsPerSec * s.kafka.bytesFetchedPerEvent) / 1e6, 1),
    kafkaMBPerSecSent: round((eventsPerSec * s.kafka.bytesSentPerEvent) / 1e6, 1),
    processorHeapMB: round((deployment.sessions * memory.heapBytesPerSession) / 1e6, 1),
    redisSessionsMB: round((deployment.sessions * memory.redisBytesPerSession) / 1e6, 1),
  };
}

/** The rows of the table on stderr: [name, value, target, met?]. */
export function rows(result, coreOnly) {
  const out = [
    [
      "coreReplayEventsPerSec",
      result.coreReplayEventsPerSec,
      `≥ ${TARGETS.coreReplayEventsPerSec}`,
      result.coreReplayEventsPerSec >= TARGETS.coreReplayEventsPerSec,
    ],
    ["coreEndToEndEventsPerSec", result.coreEndToEndEventsPerSec, "", undefined],
    ["coreDecodeValidateEventsPerSec", result.coreDecodeValidateEventsPerSec, "", undefined],
    ["coreOverDecode", result.coreOverDecode, `≥ ${TARGETS.coreOverDecode}`, result.coreOverDecode >= TARGETS.coreOverDecode],
    ["heapBytesPerSession", result.heapBytesPerSession, `≤ ${TARGETS.heapBytesPerSession}`, result.heapBytesPerSession <= TARGETS.heapBytesPerSession],
  ];
  if (coreOnly) return out;
  const cpu = result.cpuMicrosPerEvent;
  const s = result.sizing;
  out.push(
    ["noopConsumerEventsPerSec", result.noopConsumerEventsPerSec, "", undefined],
    ["liveEventsPerSec", result.liveEventsPerSec, "", undefined],
    ["liveRatio", result.liveRatio, `≥ ${TARGETS.liveRatio}`, result.liveRatio >= TARGETS.liveRatio],
    ["liveOverCore", result.liveOverCore, `≥ ${TARGETS.liveOverCore}`, result.liveOverCore >= TARGETS.liveOverCore],
    ["liveCpuOverCore", result.liveCpuOverCore, `≤ ${TARGETS.liveCpuOverCore}`, result.liveCpuOverCore <= TARGETS.liveCpuOverCore],
    ["CPU µs/event core / same ev. / live", `${cpu.coreReplay} / ${cpu.offlineSameEvents} / ${cpu.live}`, "", undefined],
    ["live events/s per core", `${s.eventsPerSecPerCore} (${s.processorCoresUsed} cores)`, "", undefined],
    ["Redis ops, B in / out per event", `${s.redis.opsPerEvent}, ${s.redis.bytesToRedisPerEvent} / ${s.redis.bytesFromRedisPerEvent}`, "", undefined],
    [
      "  sessions spread out",
      `${s.spread.redis.opsPerEvent}, ${s.spread.redis.bytesToRedisPerEvent} / ${s.spread.redis.bytesFromRedisPerEvent}`,
      `(${s.spread.eventsPerSec} ev/s, ${s.spread.cpuMicrosPerEvent} µs/ev)`,
      undefined,
    ],
    ["Kafka B fetched / sent per event", `${s.kafka.bytesFetchedPerEvent} / ${s.kafka.bytesSentPerEvent}`, "", undefined],
    ["Redis B per session", s.memory.redisBytesPerSession, "", undefined],
    [
      "latencyMs p50 / p95 / p99",
      `${result.latencyMs.p50} / ${result.latencyMs.p95} / ${result.latencyMs.p99}`,
      `p99 ≤ ${TARGETS.latencyP99Ms}`,
      result.latencyMs.p99 <= TARGETS.latencyP99Ms,
    ],
    [
      "scaleOut: 3 vs 1 (commands, baselines, ledger)",
      result.scaleOut ? `${result.scaleOut.commandsEqual} / ${result.scaleOut.baselinesEqual} / ${result.scaleOut.ledgerEqual}` : "not run",
      "all true",
      result.scaleOut ? result.scaleOut.commandsEqual && result.scaleOut.baselinesEqual && result.scaleOut.ledgerEqual : undefined,
    ],
    ["latency floor at 100 events/s", `${result.latencyFloorMs.p50} / ${result.latencyFloorMs.p95} / ${result.latencyFloorMs.p99}`, "", undefined],
    [
      "batch ms at the floor",
      Object.entries(result.latencyFloorBatches.phaseMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
      "",
      undefined,
    ],
    ["commandsExpected / commandsSeen", `${result.commandsExpected} / ${result.commandsSeen}`, "equal, same content", result.commandsMatch],
    [
      "mcp gateway ms p50 / p95 / p99",
      `${result.mcpGatewayLatencyMs.gateway.p50} / ${result.mcpGatewayLatencyMs.gateway.p95} / ${result.mcpGatewayLatencyMs.gateway.p99}`,
      "",
      undefined,
    ],
    [
      "  direct (no gateway)",
      `${result.mcpGatewayLatencyMs.direct.p50} / ${result.mcpGatewayLatencyMs.direct.p95} / ${result.mcpGatewayLatencyMs.direct.p99}`,
      "",
      undefined,
    ],
    [
      "  added by the gateway",
      `${result.mcpGatewayLatencyMs.added.p50} / ${result.mcpGatewayLatencyMs.added.p95} / ${result.mcpGatewayLatencyMs.added.p99}`,
      `p50 ≤ ${TARGETS.mcpAddedP50Ms}, p99 ≤ ${TARGETS.mcpAddedP99Ms}`,
      result.mcpGatewayLatencyMs.added.p50 <= TARGETS.mcpAddedP50Ms && result.mcpGatewayLatencyMs.added.p99 <= TARGETS.mcpAddedP99Ms,
    ],
  );
  const phases = result.livePhaseSeconds ?? {};
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  if (total > 0)
    out.push([
      "live phases (s, share)",
      Object.entries(phases)
        .map(([k, v]) => `${k} ${v} (${Math.round((100 * v) / total)}%)`)
        .join(", "),
      "",
      undefined,
    ]);
  return out;
}
