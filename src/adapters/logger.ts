// Structured JSON logs, one object per line on stderr, with a level threshold.

export type Level = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * JSON for a log line, whatever the fields hold: an Error becomes its name and message (and
 * its cause), a repeated or circular reference "[Circular]", a bigint its digits. A logger
 * must never throw: kafkajs logs errors from inside its consumer loop, and a throw there
 * (ioredis's MaxRetriesPerRequestError carries a circular `previousErrors`) crashed the
 * consumer for good.
 */
export function logLine(entry: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(entry, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v !== "object" || v === null) return v;
      if (seen.has(v)) return "[Circular]";
      seen.add(v);
      if (v instanceof Error) return { name: v.name, message: v.message, ...(v.cause === undefined ? {} : { cause: v.cause }) };
      return v;
    });
  } catch (e) {
    return JSON.stringify({
      time: entry.time,
      level: entry.level,
      msg: entry.msg,
      logError: `fields not serialisable: ${e instanceof Error ? e.message : String(e)}`,
    });
  }
}

/** For commands that print their own output: the configured level, but not info chatter from the clients. */
export const commandLogger = (level: Level): Logger => jsonLogger(level === "info" ? "warn" : level);

export function jsonLogger(level: Level, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at =
    (l: Exclude<Level, "silent">) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[l] < ORDER[level]) return;
      write(`${logLine({ time: new Date().toISOString(), level: l, msg, ...fields })}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
