import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { AgentEvent, SessionStatus } from "../../src/protocol/index.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { cliPath } from "../support/processes.js";
import { isolatedEnv, jsonValues, readAll } from "../support/live.js";

// A step-up through `vigil mcp`, end to end: a policy that asks for a step-up before any
// write, the real SDK client declaring elicitation in front, the real filesystem server
// behind, the live processor deciding. The person (the client's elicitation handler)
// accepts once and declines once: the accepted write runs, the declined one never reaches
// the server, and both answers are on the events topic as `step_up.answered` (contract
// v1.4) naming the held call, decided by the processor (audit records). A gateway given no
// goal says so on the session status (`goal: "none"`).

const filesystemServer = join(import.meta.dirname, "..", "..", "node_modules", "@modelcontextprotocol", "server-filesystem", "dist", "index.js");
const POLICY = `version: 1
rules:
  - id: confirm-writes
    when: event.type == "action" && event.action.capability == "write_file"
    decision: step_up
    message: a person confirms every write
`;

let running: Running;
let env: Record<string, string>;
let dir: string;

const text = (r: unknown): string =>
  ((r as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => (c.type === "text" ? (c.text ?? "") : "")).join("\n");

async function until<T>(read: () => Promise<T>, done: (t: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    value = await read();
  }
  return value;
}

describe("vigil mcp: a step-up answered through MCP elicitation", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-mcp-stepup-"));
    writeFileSync(join(dir, "policy.yaml"), POLICY);
    env = isolatedEnv("mcp-stepup", { VIGIL_POLICY_FILE: join(dir, "policy.yaml") });
    running = await startVigil(env);
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the write the person accepts, holds the one they decline, and records both answers", { timeout: 120_000 }, async () => {
    const servers = join(dir, "servers.json");
    writeFileSync(servers, JSON.stringify({ mcpServers: { files: { command: process.execPath, args: [filesystemServer, dir] } } }));
    const answers: ("accept" | "decline")[] = ["accept", "decline"];
    const questions: string[] = [];
    const client = new Client({ name: "vigil-test-agent", version: "1.0.0" }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      questions.push(request.params.message);
      return { action: answers.shift() ?? "decline", content: {} };
    });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cliPath, "mcp", "--config", servers, "--principal", "alice", "--jwks-url", `http://127.0.0.1:${running.httpPort}/.well-known/jwks.json`],
        env: { ...(process.env as Record<string, string>), ...env },
        stderr: "pipe",
      }),
    );
    try {
      await client.listTools();
      const accepted = await client.callTool({ name: "write_file", arguments: { path: join(dir, "a.txt"), content: "first" } });
      expect(text(accepted)).not.toMatch(/Vigil held/);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("first");
      const declined = await client.callTool({ name: "write_file", arguments: { path: join(dir, "b.txt"), content: "second" } });
      expect(declined.isError).toBe(true);
      expect(text(declined)).toMatch(/^Vigil held this call to write_file: .+the person asked did not confirm\. It was not run\.( Why: .+\.)?$/);
      expect(() => readFileSync(join(dir, "b.txt"))).toThrow();
      expect(questions).toHaveLength(2);
      expect(questions[0]).toMatch(/confirm before the agent calls write_file/);
    } finally {
      await client.close();
    }

    const config = loadConfig(env);
    const events = await until(
      async () => jsonValues<AgentEvent>(await readAll(config.topics.events)),
      (es) => es.filter((e) => e.type === "step_up.answered").length >= 2,
    );
    const calls = events.filter((e) => e.type === "action");
    const answered = events.filter((e): e is Extract<AgentEvent, { type: "step_up.answered" }> => e.type === "step_up.answered");
    expect(answered.map((e) => [e.actionEventId, e.answer, e.channel])).toEqual([
      [calls[0]?.eventId, "accept", "mcp-elicitation"],
      [calls[1]?.eventId, "decline", "mcp-elicitation"],
    ]);
    // Each answer is on the session's record after its call and before the call's result (the accepted one ran, the declined one did not).
    expect(events.map((e) => e.type).filter((t) => t !== "tools.listed")).toEqual([
      "session.started",
      "action",
      "step_up.answered",
      "action.result",
      "action",
      "step_up.answered",
    ]);
    // The processor decided both answers (always on the audit trail), and the session's status says it declared no goal.
    const session = answered[0]?.sessionId;
    const audits = await until(
      async () => jsonValues<{ eventType: string; sessionId: string }>(await readAll(config.topics.audit)).filter((a) => a.sessionId === session),
      (as) => as.filter((a) => a.eventType === "step_up.answered").length >= 2,
    );
    expect(audits.filter((a) => a.eventType === "step_up.answered")).toHaveLength(2);
    const statuses = jsonValues<SessionStatus>(await readAll(config.topics.sessionStatus)).filter((s) => s.sessionId === session);
    expect(statuses.at(-1)).toMatchObject({ stepUpRequired: true, goal: "none" });
  });
});
