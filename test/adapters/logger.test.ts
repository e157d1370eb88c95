import { describe, expect, it } from "vitest";
import { jsonLogger } from "../../src/adapters/logger.js";

// A logger must never throw: kafkajs logs errors from inside its consumer loop, and a throw
// there crashes the consumer for good. The soak found it: during a Redis restart, ioredis's
// MaxRetriesPerRequestError (with a circular `previousErrors`) reached the log as a field.

const capture = () => {
  const lines: string[] = [];
  return { log: jsonLogger("debug", (l) => lines.push(l)), lines, last: () => JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown> };
};

describe("jsonLogger", () => {
  it("writes circular fields, errors with circular members, bigints and throwing toJSON without throwing", () => {
    const { log, lines, last } = capture();
    const error = Object.assign(new Error("Reached the max retries per request limit"), { name: "MaxRetriesPerRequestError" }) as Error & {
      previousErrors?: unknown[];
    };
    error.previousErrors = [error];
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => log.error("kafka: Error when calling eachBatch", { error, circular, offset: 12n })).not.toThrow();
    expect(last()).toMatchObject({
      level: "error",
      msg: "kafka: Error when calling eachBatch",
      error: { name: "MaxRetriesPerRequestError", message: "Reached the max retries per request limit" },
      circular: { a: 1, self: "[Circular]" },
      offset: "12",
    });
    expect(() =>
      log.warn("odd", {
        bad: {
          toJSON: () => {
            throw new Error("no");
          },
        },
      }),
    ).not.toThrow();
    expect(last()).toMatchObject({ level: "warn", msg: "odd", logError: "fields not serialisable: no" });
    expect(lines.every((l) => l.endsWith("\n"))).toBe(true);
  });

  it("keeps an error's cause and respects the level", () => {
    const { log, lines, last } = capture();
    log.info("stopped", { error: new Error("outer", { cause: new Error("inner") }) });
    expect(last()).toMatchObject({ error: { message: "outer", cause: { message: "inner" } } });
    const quiet = jsonLogger("error", (l) => lines.push(l));
    quiet.warn("not written");
    expect(lines).toHaveLength(1);
  });
});
