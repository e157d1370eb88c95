import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent, Command } from "../../src/protocol/index.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { replayLineCommands } from "../support/expected-commands.js";
import { expectSameCommands } from "../support/same-commands.js";
import { isolatedEnv, jsonValues, readAll, untilProcessed } from "../support/live.js";

// The HTTP doors on the live processor (real Kafka, Redis): a plain-Python tool guarded with
// AuthZEN and reporting through the intake (examples/python, run with the machine's python3),
// a scenario posted to the intake, and hostile requests. What goes in is what the events topic
// receives; the commands the processor publishes equal `vigil replay` of those same events;
// a refused request publishes nothing.

const PEP = "py-tools";
const TOKEN = "tok-py-tools-0123456789abcdef0123";
const FLOODER = "tok-flooder-0123456789abcdef01234";
const root = join(import.meta.dirname, "..", "..");

let running: Running;
let env: Record<string, string>;
let base: string;

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers } });

async function topicEvents(): Promise<AgentEvent[]> {
  return jsonValues<AgentEvent>(await readAll(loadConfig(env).topics.events));
}

async function liveCommands(sessionId: string): Promise<Command[]> {
  const c = loadConfig(env);
  await untilProcessed(c.kafka.groupId, c.topics.events, 60_000);
  return jsonValues<Command>(await readAll(c.topics.commands)).filter((x) => x.sessionId === sessionId);
}

describe("the HTTP doors: AuthZEN, the event intake", () => {
  beforeAll(async () => {
    // A long hold: on a busy machine a decision may take seconds; the test waits on it, never on a quiet CPU.
    env = isolatedEnv("doors", { VIGIL_PEP_TOKENS: `${PEP}:${TOKEN},flooder:${FLOODER}`, VIGIL_PEP_RATE: "20", VIGIL_PEP_HOLD_MS: "60000" });
    running = await startVigil(env);
    base = `http://127.0.0.1:${running.httpPort}`;
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
  });

  it("guards a plain-Python tool: the submit is allowed, the self-approval denied, and live equals replay", { timeout: 120_000 }, async () => {
    const session = `py-${Date.now()}`;
    // Asynchronously: the processor runs in this process and must answer while Python waits.
    const run = await promisify(execFile)("python3", [join(root, "examples", "python", "guarded_tool.py")], {
      env: { ...process.env, VIGIL_URL: base, VIGIL_PEP_TOKEN: TOKEN, VIGIL_SESSION: session },
      encoding: "utf8",
      timeout: 60_000,
    });
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.capability, l.decision])).toEqual([
      ["expense.submit", true],
      ["expense.approve", false],
    ]);
    expect(lines[1]?.outcome).toBe("deny");
    expect((lines[1]?.reason_codes as string[]).some((c) => c.startsWith("sod."))).toBe(true);

    const events = (await topicEvents()).filter((e) => e.sessionId === session);
    // Started by the first evaluation; two attempted actions; the submit's result from the intake.
    expect(events.map((e) => e.type)).toEqual(["session.started", "action", "action.result", "action"]);
    const result = events[2] as Extract<AgentEvent, { type: "action.result" }>;
    expect(result.actionEventId).toBe(events[1]?.eventId);
    const live = await liveCommands(session);
    expect(live.length).toBeGreaterThan(0);
    expectSameCommands(live, await replayLineCommands(events.map((e) => JSON.stringify(e))), 1);
  });

  it("takes a scenario through the intake as sent, and decides it as replay does", { timeout: 120_000 }, async () => {
    const session = `intake-${Date.now()}`;
    const sent = readFileSync(join(root, "examples", "scenarios", "exfiltration.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const e = JSON.parse(l) as Record<string, unknown>;
        return { ...e, sessionId: session, eventId: `${session}${String(e.eventId).slice(String(e.eventId).indexOf("#"))}` };
      });
    const r = await post("/v1/events", JSON.stringify(sent));
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ accepted: sent.length, eventIds: sent.map((e) => e.eventId) });
    const onTopic = (await topicEvents()).filter((e) => e.sessionId === session);
    expect(onTopic).toEqual(sent);
    const live = await liveCommands(session);
    expect(live.map((c) => c.type)).toContain("revoke");
    expectSameCommands(live, await replayLineCommands(sent.map((e) => JSON.stringify(e))), 1);
  });

  it("writes a request larger than the broker takes in one batch (2.4 MB for one session), every event of it", { timeout: 120_000 }, async () => {
    const session = `big-${Date.now()}`;
    const note = "n".repeat(3000);
    const sent = Array.from({ length: 800 }, (_, i) => ({
      type: "action",
      eventId: `${session}#${i}`,
      sessionId: session,
      time: new Date(Date.parse("2026-12-06T10:00:00Z") + i * 1000).toISOString(),
      agent: { id: "bulk-agent" },
      principal: { id: "bulk" },
      action: { capability: "notes.read", kind: "read" },
      args: { note },
    }));
    const r = await post("/v1/events", JSON.stringify(sent));
    expect(r.status, await r.clone().text()).toBe(202);
    expect(((await r.json()) as { accepted: number }).accepted).toBe(800);
    expect((await topicEvents()).filter((e) => e.sessionId === session).map((e) => e.eventId)).toEqual(sent.map((e) => e.eventId));
  });

  it("answers hostile requests with a clear error and publishes nothing of them", { timeout: 120_000 }, async () => {
    const before = (await topicEvents()).length;
    const event = {
      type: "action",
      eventId: "h-1",
      sessionId: "hostile",
      time: "2026-12-06T10:00:00Z",
      agent: { id: "a" },
      principal: { id: "p" },
      action: { capability: "x" },
    };
    const cases: [string, Promise<Response>, number, RegExp][] = [
      ["no token", fetch(`${base}/v1/events`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } }), 401, /enforcement point/],
      ["wrong token", post("/v1/events", "{}", { authorization: "Bearer nope" }), 401, /bearer token/],
      ["wrong content type", post("/v1/events", JSON.stringify(event), { "content-type": "text/plain" }), 415, /application\/json/],
      ["malformed JSON", post("/v1/events", '{"type": "action",'), 400, /^body: not JSON/],
      ["deep nesting", post("/v1/events", "[".repeat(100_000) + "]".repeat(100_000)), 400, /nested deeper than 64/],
      ["oversize", post("/access/v1/evaluation", JSON.stringify({ pad: "x".repeat(70 * 1024) })), 413, /over the cap of 65536 bytes/],
      [
        "one bad event of two",
        post("/v1/events", JSON.stringify([event, { ...event, eventId: "h-2", action: { capability: 7 } }])),
        400,
        /^\[1\]\.action\.capability: /,
      ],
      ["unknown event type", post("/v1/events", JSON.stringify({ ...event, type: "nope" })), 400, /unknown event type "nope"/],
      [
        "AuthZEN without a session",
        post(
          "/access/v1/evaluation",
          JSON.stringify({ subject: { type: "agent", id: "a", properties: { principal: "p" } }, action: { name: "x" }, resource: { type: "t", id: "r" } }),
        ),
        400,
        /^context\.session_id: required/,
      ],
      [
        "AuthZEN without a subject",
        post("/access/v1/evaluation", JSON.stringify({ action: { name: "x" }, resource: { type: "t", id: "r" }, context: { session_id: "s" } })),
        400,
        /^subject: /,
      ],
    ];
    for (const [name, response, status, message] of cases) {
      const r = await response;
      const body = (await r.json()) as { error: string; code: string };
      expect([name, r.status], JSON.stringify(body)).toEqual([name, status]);
      expect(body.error, name).toMatch(message);
      expect(typeof body.code).toBe("string");
    }
    // A flood from one enforcement point: 429 with Retry-After once its burst is spent; the others are not slowed.
    const flood = await Promise.all(
      Array.from({ length: 60 }, () =>
        fetch(`${base}/v1/events`, { method: "POST", body: "[]", headers: { "content-type": "application/json", authorization: `Bearer ${FLOODER}` } }),
      ),
    );
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await post("/v1/events", "[]")).status).toBe(400);
    expect((await topicEvents()).length).toBe(before);
  });

  it("publishes its AuthZEN metadata and answers batch evaluations with the spec's semantics", { timeout: 120_000 }, async () => {
    const meta = await fetch(`${base}/.well-known/authzen-configuration`);
    expect(await meta.json()).toEqual({
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}/access/v1/evaluation`,
      access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    });
    const session = `batch-${Date.now()}`;
    const r = await post(
      "/access/v1/evaluations",
      JSON.stringify({
        subject: { type: "agent", id: "assistant-7", properties: { principal: "alice", roles: ["manager"] } },
        resource: { type: "expense_report", id: `ER-${session}` },
        context: { session_id: session, goal: "File my trip report and get it approved" },
        evaluations: [
          { action: { name: "expense.submit", properties: { kind: "write" } } },
          { action: { name: "expense.approve", properties: { kind: "write" } } },
          { action: { name: "expense.read", properties: { kind: "read" } } },
        ],
        options: { evaluations_semantic: "deny_on_first_deny" },
      }),
      { "x-request-id": "req-42" },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get("x-request-id")).toBe("req-42");
    const body = (await r.json()) as { evaluations: { decision: boolean; context: { outcome: string } }[] };
    expect(body.evaluations.map((d) => d.decision)).toEqual([true, false]);
  });
});
