import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import { Command } from "../../src/protocol/index.js";
import { brokers } from "../support/stack-env.js";
import { isolatedEnv } from "../support/live.js";

// A client none of us wrote: kcat (librdkafka) produces JSON events and consumes the
// commands. Proves the wire contract is plain Kafka, not a kafkajs convention.

const file = join(import.meta.dirname, "..", "..", "examples", "scenarios", "expense-self-approval.jsonl");

describe("kcat talks to Vigil", () => {
  it("kcat-produced events yield commands that kcat reads back", async () => {
    expect(spawnSync("kcat", ["-V"]).status, "kcat is missing: apt-get install kcat").toBe(0);
    const env = isolatedEnv("kcat");
    const config = loadConfig(env);
    const running = await startVigil(env);
    try {
      const keyed = readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => `${(JSON.parse(l) as { sessionId: string }).sessionId}\t${l}`)
        .join("\n");
      execFileSync("kcat", ["-P", "-b", brokers.join(","), "-t", config.topics.events, "-K", "\t"], { input: `${keyed}\n` });
      // Asynchronous: the processor runs in this process and must keep working meanwhile.
      const { stdout: out } = await promisify(execFile)(
        "kcat",
        ["-C", "-b", brokers.join(","), "-t", config.topics.commands, "-o", "beginning", "-c", "2", "-q", "-f", "%k\t%s\n"],
        { encoding: "utf8", timeout: 60_000 },
      );
      const rows = out
        .trim()
        .split("\n")
        .map((l) => {
          const [key, value] = [l.slice(0, l.indexOf("\t")), l.slice(l.indexOf("\t") + 1)];
          return { key, command: Command.parse(JSON.parse(value)) };
        });
      expect(rows.map((r) => [r.key, r.command.type, r.command.capabilities?.removed])).toEqual([
        ["exp-1", "downgrade", ["expense.approve"]],
        ["exp-2", "downgrade", ["expense.approve"]],
      ]);
    } finally {
      await running.stop();
    }
  });
});
