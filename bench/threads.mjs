// CPU seconds of this process on its main thread (JavaScript, and the pauses of garbage
// collection) and on its other threads (V8's helpers: concurrent marking, parallel
// scavenging, compilation; libuv's pool), from /proc/self/task (Linux; {} elsewhere). Node
// names all its threads "node", so the main one is told by its id (the process's).
// Clock ticks of 10 ms: meaningful over a window of seconds.
import { readFileSync, readdirSync } from "node:fs";

const TICKS_PER_SECOND = 100;

export function threadCpu() {
  const out = {};
  let tasks;
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name = Number(tid) === process.pid ? "main" : "other";
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** The difference of two threadCpu() readings, by thread name. */
export function threadDelta(a, b) {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round((v - (a[k] ?? 0)) * 100) / 100]));
}
