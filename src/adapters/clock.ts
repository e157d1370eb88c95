import type { Clock } from "../app/ports.js";

/** The process's monotonic clock (performance.now()), for durations only. */
export const systemClock: Clock = { monotonicMs: () => performance.now() };
