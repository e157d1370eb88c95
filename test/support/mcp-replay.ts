// Recorded agent sessions (the AgentDojo v2 traces) driven through the MCP gateway: a
// scripted MCP client issues each recorded call, an upstream MCP server (Streamable HTTP,
// in this process) answers with the recorded output, and the gateway — `openMcpGateway`,
// the same composition `vigil mcp` runs — publishes the events the live processor decides
// on. The gateway's clock and ids are driven from the recording (its one test seam, the
// ports decorator), so each event it publishes carries the recorded id and time: then the
// processor's commands can equal `vigil replay`'s of the same file byte for byte.
//
// Order is held by conditions, not by timing: the client sends a session's next call once
// the gateway has published the previous call's action; the upstream answers a call once
// every call of its parallel group has been published and every result recorded before its
// own is out. A recorded call without a result is never answered (the client cancels it).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { overHttp } from "./mcp-servers.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import type { McpGuardPorts } from "../../src/app/mcp-guard.js";
import { GOAL_META_KEY } from "../../src/app/mcp-guard.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "../../src/protocol/index.js";
import { applyCommand } from "../../src/sdk/enforcer.js";
import { check, initialEnforcement } from "../../src/protocol/enforcement.js";
import type { Enforcement } from "../../src/protocol/enforcement.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { openMcpGateway } from "../../src/cli/commands/mcp.js";
import type { McpGateway } from "../../src/cli/commands/mcp.js";
import { isolatedEnv, jsonValues, readAll, untilProcessed } from "./live.js";

export const agentdojoPolicy = join(import.meta.dirname, "..", "..", "bench", "policies", "agentdojo.yaml");

export interface RecordedTool {
  readonly tool: string;
  readonly description?: string;
  readonly parameters?: readonly { name: string; type?: string; description?: string; required?: boolean }[];
}

type Recorded = Record<string, unknown> & { type: string; eventId: string; sessionId: string; time: string };

/** One recorded session: its events in file order. */
export interface RecordedSession {
  readonly sessionId: string;
  readonly events: readonly Recorded[];
}

/** What happened to each recorded call: forwarded to the upstream (and answered or not), or held by the gateway. */
export type CallFate = "forwarded" | "held";

export interface SessionRun {
  readonly sessionId: string;
  /** The recorded action ids in order, each with its fate; in enforce mode it ends at the session's first held call. */
  readonly calls: readonly { readonly eventId: string; readonly capability: string; readonly fate: CallFate }[];
  /** Events the gateway published whose id or type did not match the recording's next event (must be empty). */
  readonly mismatches: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Sorted-key JSON, so a call's arguments match whatever order the gateway serialised them in. */
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(",")}]`
    : isObject(v)
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
          .join(",")}}`
      : (JSON.stringify(v) ?? "null");

/** Sessions of a JSONL text, in the order they first appear. */
export function recordedSessions(lines: Iterable<string>): RecordedSession[] {
  const by = new Map<string, Recorded[]>();
  for (const line of lines) {
    if (line.trim() === "") continue;
    const e = JSON.parse(line) as Recorded;
    let list = by.get(e.sessionId);
    if (!list) by.set(e.sessionId, (list = []));
    list.push(e);
  }
  return [...by].map(([sessionId, events]) => ({ sessionId, events }));
}

/** The catalog entry a tool server would list for a recorded tool. */
export const listedTool = (t: RecordedTool) => ({
  name: t.tool,
  ...(t.description ? { description: t.description } : {}),
  inputSchema: {
    type: "object" as const,
    properties: Object.fromEntries(
      (t.parameters ?? []).map((p) => [p.name, { type: p.type ?? "string", ...(p.description ? { description: p.description } : {}) }]),
    ),
    required: (t.parameters ?? []).filter((p) => p.required).map((p) => p.name),
  },
});

interface Staged {
  readonly eventId: string;
  readonly name: string;
  readonly args: string;
  readonly answer?: { text: string; isError: boolean };
  /** Resolves when the upstream may answer. */
  readonly gate: () => Promise<void>;
  taken: boolean;
}

/**
 * The recording driver: an upstream MCP server to put in the gateway's config file, a ports
 * decorator for `openMcpGateway`, and `run` to drive one recorded session through the gateway.
 */
export class McpRecordingDriver {
  private upstream: { url: string; close(): Promise<void> } | undefined;
  private staged: Staged[] = [];
  private readonly ranIds = new Set<string>();
  /** Ids and times of the current session's recorded events, in the order the gateway is to publish them. */
  private queue: Recorded[] = [];
  private readonly published = new Set<string>();
  private mismatches: string[] = [];
  private waiters = new Set<() => void>();
  private hang = new AbortController();

  constructor(private readonly tools: readonly RecordedTool[]) {}

  /** Starts the upstream (a server per request, as `overHttp` serves any); returns its URL. */
  async start(): Promise<string> {
    const seen = new Set<string>();
    const listed = this.tools.filter((t) => !seen.has(t.tool) && seen.add(t.tool)).map(listedTool);
    this.upstream = await overHttp(() => {
      const server = new Server({ name: "recorded-tools", version: "1.0.0" }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => this.answer(request.params.name, request.params.arguments ?? {}, extra.signal));
      return server;
    });
    return this.upstream.url;
  }

  async stop(): Promise<void> {
    this.hang.abort();
    await this.upstream?.close();
  }

  /** Wraps the gateway's ports: ids and times from the recording, and a record of what was published. */
  readonly decorate = (ports: McpGuardPorts): McpGuardPorts => {
    let next: Recorded | undefined;
    return {
      ...ports,
      newId: () => {
        next = this.queue.shift();
        return next?.eventId ?? `unrecorded-${ports.newId()}`;
      },
      now: () => (next ? Date.parse(next.time) : ports.now()),
      publish: async (event: AgentEvent) => {
        const want = this.recordedType.get(event.eventId);
        const at = this.recordedTime.get(event.eventId);
        if (want !== event.type || at === undefined || Date.parse(event.time) !== Date.parse(at))
          this.mismatches.push(`${event.eventId}: published ${event.type} at ${event.time}, recorded ${want ?? "nothing"} at ${at ?? "-"}`);
        await ports.publish(event);
        this.published.add(event.eventId);
        this.notify();
      },
    };
  };

  private readonly recordedType = new Map<string, string>();
  private readonly recordedTime = new Map<string, string>();

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = () => {
        if (!cond()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private async answer(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const key = canonical(args);
    const s = this.staged.find((x) => !x.taken && x.name === name && x.args === key);
    if (!s) return { isError: true, content: [{ type: "text", text: `no recorded call ${name} ${key}` }] };
    s.taken = true;
    this.ranIds.add(s.eventId);
    this.notify();
    if (!s.answer) {
      // Recorded without a result: never answered (the client gives up on it).
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => resolve(), { once: true });
        this.hang.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return { isError: true, content: [{ type: "text", text: "cancelled" }] };
    }
    await s.gate();
    return { ...(s.answer.isError ? { isError: true } : {}), content: [{ type: "text", text: s.answer.text }] };
  }

  /**
   * Drives one recorded session through `gateway` as MCP session `session.sessionId` (the
   * goal in each call's `_meta`). In `enforce` mode the run ends at the session's first held
   * call: what the gateway publishes after a call that never ran no longer follows the recording.
   */
  async run(gateway: McpGateway, session: RecordedSession, mode: "monitor" | "enforce"): Promise<SessionRun> {
    const events = session.events;
    const started = events[0];
    if (started?.type !== "session.started") throw new Error(`${session.sessionId}: the recording does not open with session.started`);
    this.queue = [...events];
    this.mismatches = [];
    this.staged = [];
    for (const e of events) {
      this.recordedType.set(e.eventId, e.type);
      this.recordedTime.set(e.eventId, e.time);
    }
    const goal = (started.intent as { goal?: string } | undefined)?.goal ?? "";
    const who = { principal: (started.principal as { id: string }).id, agent: (started.agent as { id: string }).id };
    const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    const joined = await gateway.serve(gatewaySide, session.sessionId, who);
    const client = new Client({ name: "recorded-agent", version: "1.0.0" });
    await client.connect(clientSide);
    const calls: { eventId: string; capability: string; fate: CallFate }[] = [];
    const results = new Map<string, Recorded>();
    for (const e of events) if (e.type === "action.result") results.set(e.actionEventId as string, e);
    /** Ids of the session's events, in file order, to gate each answer on what was recorded before it. */
    const order = events.map((e) => e.eventId);
    const settled = new Set<string>();
    let stopped = false;
    try {
      // No tools/list: the recording carries no listing of the tools (the catalog is the policy's),
      // and a listing would add an event (`tools.listed`) that `vigil replay` of the file never sees.
      let i = 1;
      while (i < events.length && !stopped) {
        // A parallel group: consecutive actions, then their results.
        const group: Recorded[] = [];
        while (events[i]?.type === "action") group.push(events[i++] as Recorded);
        while (events[i]?.type === "action.result") i++;
        if (group.length === 0) {
          i++;
          continue;
        }
        const groupIds = group.map((a) => a.eventId);
        const aborts = new Map<string, AbortController>();
        const pending: Promise<void>[] = [];
        for (const action of group) {
          const result = results.get(action.eventId);
          const before = result ? order.slice(0, order.indexOf(result.eventId)).filter((id) => this.recordedType.get(id) === "action.result") : [];
          const args = isObject(action.args) ? action.args : {};
          const tool = (action.action as { tool?: string; capability: string }).tool ?? (action.action as { capability: string }).capability;
          this.staged.push({
            eventId: action.eventId,
            name: tool,
            args: canonical(args),
            ...(result ? { answer: { text: (result.output as { text?: string }).text ?? "", isError: result.outcome !== "success" } } : {}),
            gate: () =>
              this.until(
                () =>
                  groupIds.every((id) => this.published.has(id) || settled.has(id)) &&
                  before.every((id) => this.published.has(id) || settled.has(this.actionOf(id, results))),
              ),
            taken: false,
          });
          const abort = new AbortController();
          aborts.set(action.eventId, abort);
          const entry = { eventId: action.eventId, capability: (action.action as { capability: string }).capability, fate: "forwarded" as CallFate };
          calls.push(entry);
          pending.push(
            client
              .callTool({ name: tool, arguments: args, _meta: { [GOAL_META_KEY]: goal } }, undefined, { signal: abort.signal, timeout: 600_000 })
              .then(
                (r) => {
                  const text = JSON.stringify(r.content ?? "");
                  if (r.isError && text.includes("Vigil held this call")) {
                    entry.fate = "held";
                    if (mode === "enforce") stopped = true;
                  }
                },
                () => {},
              )
              .finally(() => {
                settled.add(action.eventId);
                this.notify();
              }),
          );
          await this.until(() => this.published.has(action.eventId));
          // Enforce: the next call of a parallel group goes once this one is ruled (forwarded or held).
          // Sent at once, both would be checked against the state after both were decided, and a
          // command the later one caused could hold the earlier one: stricter than the replay's fold
          // (docs/mcp.md), never looser, but not call for call.
          if (mode === "enforce") await this.until(() => this.ranIds.has(action.eventId) || settled.has(action.eventId));
        }
        // Calls recorded without a result are cancelled once every other call of the group has settled.
        const hanging = group.filter((a) => !results.has(a.eventId)).map((a) => a.eventId);
        await this.until(() => groupIds.every((id) => hanging.includes(id) || settled.has(id)));
        for (const id of hanging) aborts.get(id)?.abort();
        await Promise.all(pending);
      }
    } finally {
      await client.close();
      await joined.close();
    }
    return {
      sessionId: session.sessionId,
      calls: stopped ? calls.slice(0, calls.findIndex((c) => c.fate === "held") + 1) : calls,
      mismatches: this.mismatches,
    };
  }

  private actionOf(resultId: string, results: Map<string, Recorded>): string {
    for (const [action, r] of results) if (r.eventId === resultId) return action;
    return resultId;
  }

  /** Whether the upstream ran the recorded call `actionEventId`. */
  ran(actionEventId: string): boolean {
    return this.ranIds.has(actionEventId);
  }
}

export function mcpReplayFixture(every: number) {
  let work = "";
  let sessions: RecordedSession[] = [];
  let subset = "";
  let tools: RecordedTool[] = [];
  return {
    setUp(from: string) {
      const lines = readFileSync(join(from, "agentdojo-gpt-4o-v2.jsonl"), "utf8").split("\n");
      sessions = recordedSessions(lines).filter((_, i) => i % every === 0);
      tools = JSON.parse(readFileSync(join(from, "agentdojo-tools.json"), "utf8")) as RecordedTool[];
      work = mkdtempSync(join(tmpdir(), "vigil-mcp-replay-"));
      subset = join(work, "sessions.jsonl");
      writeFileSync(subset, sessions.flatMap((s) => s.events.map((e) => JSON.stringify(e))).join("\n") + "\n");
    },
    get sessions() {
      return sessions;
    },
    get subset() {
      return subset;
    },
    get tools() {
      return tools;
    },
    get work() {
      return work;
    },
    tearDown() {
      if (work) rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Drives `sessions` through a gateway in `mode` in front of a fresh processor; returns the runs, the live commands and the upstream driver. */
export async function throughGateway(fixture: ReturnType<typeof mcpReplayFixture>, mode: "monitor" | "enforce", name: string) {
  const env = isolatedEnv(name, { VIGIL_POLICY_FILE: agentdojoPolicy });
  const running: Running = await startVigil(env);
  const driver = new McpRecordingDriver(fixture.tools);
  const config = join(fixture.work, `${name}.servers.json`);
  writeFileSync(config, JSON.stringify({ mcpServers: { agentdojo: { url: await driver.start() } } }));
  const gateway = await openMcpGateway(
    env,
    {
      config,
      mode,
      principal: "unused",
      agent: "unused",
      holdMs: 60_000,
      failMode: "closed",
      jwksUrl: `http://127.0.0.1:${running.httpPort}/.well-known/jwks.json`,
    },
    driver.decorate,
  );
  const runs: SessionRun[] = [];
  try {
    for (const s of fixture.sessions) runs.push(await driver.run(gateway, s, mode));
    const c = loadConfig(env);
    await untilProcessed(c.kafka.groupId, c.topics.events, 120_000);
    const live = jsonValues<Command>(await readAll(c.topics.commands));
    return { runs, live, driver };
  } finally {
    await gateway.close();
    await driver.stop();
    await running.stop();
  }
}

/** Forwarded or held, per recorded action, as the replay's commands say: the enforcer's fold, checked at each action (a capability denied on any resource is held, as the gateway does). */
export function expectedFates(sessions: readonly RecordedSession[], commands: readonly Command[]): Map<string, "forwarded" | "held"> {
  const byCause = new Map<string, Command[]>();
  for (const c of commands)
    for (const id of c.causedBy) {
      const list = byCause.get(id) ?? [];
      list.push(c);
      byCause.set(id, list);
    }
  const fates = new Map<string, "forwarded" | "held">();
  for (const s of sessions) {
    let state: Enforcement = initialEnforcement;
    const applied = new Set<string>();
    for (const e of s.events) {
      for (const c of byCause.get(e.eventId) ?? [])
        if (!applied.has(c.commandId)) {
          applied.add(c.commandId);
          state = applyCommand(state, c);
        }
      if (e.type !== "action") continue;
      const capability = (e.action as { capability: string }).capability;
      const verdict = check(state, capability);
      const deniedOn = state.deniedOn.some((d) => d.capability === capability);
      fates.set(e.eventId, verdict.outcome === "allow" && !deniedOn ? "forwarded" : "held");
    }
  }
  return fates;
}

/** A command with its times written the one way the gateway's clock writes them (ISO 8601 with milliseconds): the recording writes `…:00Z`, the same instant. */
export const sameInstants = (c: Command): Command => ({
  ...c,
  time: new Date(c.time).toISOString(),
  ...(c.expiresAt ? { expiresAt: new Date(c.expiresAt).toISOString() } : {}),
});
