// Decisions read as given / when / then (docs/style.md, rule 7, after emmett's deciderSpecification):
// prior events run through the pure `step()` in an in-memory world, then one event is decided
// and the expectation sees its commands, decision record and resulting session state.
import { expect } from "vitest";
import type { AgentEvent, Command, EventContext, Intent, ListedTool, Resource } from "../../src/protocol/index.js";
import type { Baseline, CompiledPolicy, DecisionRecord, SessionState, SodRecord, StepOutput } from "../../src/core/index.js";
import { compilePolicy, emptyBaseline, step } from "../../src/core/index.js";

export const ORIGIN = "2026-11-28T09:00:00Z";
/** The event time `seconds` after ORIGIN, RFC 3339 without milliseconds. */
export const at = (seconds: number): string => new Date(Date.parse(ORIGIN) + seconds * 1000).toISOString().replace(/\.000Z$/, "Z");

export interface Who {
  readonly session?: string;
  readonly agent?: string;
  readonly principal?: string;
  /** The principal's roles (separation of duties reads them). */
  readonly roles?: readonly string[];
  readonly id?: string;
  readonly context?: EventContext;
}

function common(t: number, who: Who, kind: string) {
  const sessionId = who.session ?? "s1";
  return {
    eventId: who.id ?? `${sessionId}/${kind}@${t}`,
    sessionId,
    time: at(t),
    agent: { id: who.agent ?? "agent-1" },
    principal: { id: who.principal ?? "alice", ...(who.roles ? { roles: [...who.roles] } : {}) },
    ...(who.context ? { context: who.context } : {}),
  };
}

export const sessionStarted = (t: number, intent: Intent, opts: Who & { grants?: string[] } = {}): AgentEvent => ({
  ...common(t, opts, "started"),
  type: "session.started",
  intent,
  ...(opts.grants ? { grants: opts.grants } : {}),
});

export interface ActionOpts extends Who {
  readonly kind?: "read" | "write" | "delete" | "execute" | "egress" | "admin";
  readonly tool?: string;
  readonly resource?: Resource;
  readonly args?: Record<string, unknown>;
  readonly outcome?: "attempted" | "success" | "denied" | "error";
}

export const action = (t: number, capability: string, opts: ActionOpts = {}): AgentEvent => ({
  ...common(t, opts, capability),
  type: "action",
  action: { capability, ...(opts.tool ? { tool: opts.tool } : {}), ...(opts.kind ? { kind: opts.kind } : {}) },
  ...(opts.resource ? { resource: opts.resource } : {}),
  ...(opts.args ? { args: opts.args } : {}),
  ...(opts.outcome ? { outcome: opts.outcome } : {}),
});

export interface ResultOpts extends Who {
  readonly outcome?: "success" | "error" | "denied";
  readonly source?: { trust?: "trusted" | "untrusted" | "unknown"; origin?: string };
  readonly truncated?: boolean;
}

/** The `action.result` answering `call` (an action event, or its eventId): its output's text as the agent will read it. */
export const actionResult = (t: number, call: AgentEvent | string, text: string, opts: ResultOpts = {}): AgentEvent => {
  const actionEventId = typeof call === "string" ? call : call.eventId;
  return {
    ...common(t, opts, `result:${actionEventId}`),
    type: "action.result",
    actionEventId,
    outcome: opts.outcome ?? "success",
    output: { text, ...(opts.truncated !== undefined ? { truncated: opts.truncated } : {}) },
    ...(opts.source ? { source: opts.source } : {}),
  };
};

export const contextChanged = (t: number, context: EventContext, opts: Who = {}): AgentEvent => ({
  ...common(t, { ...opts, context }, "context"),
  type: "context.changed",
});

export const grantRequested = (t: number, capability: string, opts: Who & { ttlSeconds?: number; purpose?: string; resource?: Resource } = {}): AgentEvent => ({
  ...common(t, opts, `grant:${capability}`),
  type: "grant.requested",
  capability,
  ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
  ...(opts.purpose ? { purpose: opts.purpose } : {}),
  ...(opts.resource ? { resource: opts.resource } : {}),
});

export const intentUpdated = (t: number, intent: Intent, opts: Who = {}): AgentEvent => ({ ...common(t, opts, "intent"), type: "intent.updated", intent });

export const sessionEnded = (t: number, opts: Who & { reason?: string } = {}): AgentEvent => ({
  ...common(t, opts, "ended"),
  type: "session.ended",
  ...(opts.reason ? { reason: opts.reason } : {}),
});

/** A `tools.listed` (contract v1.3): the tools a gateway saw listed. */
export const toolsListed = (t: number, tools: ListedTool[], opts: Who = {}): AgentEvent => ({
  ...common(t, opts, "tools"),
  type: "tools.listed",
  tools,
});

/** A `step_up.answered` (contract v1.4): what the person answered when asked to confirm `call`. */
export const stepUpAnswered = (t: number, call: AgentEvent | string, answer: "accept" | "decline" | "cancel", opts: Who = {}): AgentEvent => ({
  ...common(t, opts, `answer-${answer}`),
  type: "step_up.answered",
  actionEventId: typeof call === "string" ? call : call.eventId,
  answer,
  channel: "mcp-elicitation",
});

/** Sessions, agent/principal baselines and the SoD ledger, kept in maps; handle() stores what step() returns. */
export class World {
  readonly sessions = new Map<string, SessionState>();
  readonly baselines = new Map<string, Baseline>();
  readonly sod = new Map<string, SodRecord[]>();
  constructor(readonly policy: CompiledPolicy = compilePolicy()) {}

  handle(event: AgentEvent): StepOutput {
    const session = this.sessions.get(event.sessionId);
    const agentKey = `agent:${session?.agentId ?? event.agent.id}`;
    const principalKey = `principal:${session?.principalId ?? event.principal.id}`;
    const out = step(
      this.policy,
      {
        session,
        agentBaseline: this.baselines.get(agentKey) ?? emptyBaseline(),
        principalBaseline: this.baselines.get(principalKey) ?? emptyBaseline(),
        sod: { records: (key) => this.sod.get(key) ?? [] },
      },
      event,
    );
    if (out.duplicate) return out;
    this.sessions.set(out.session.sessionId, out.session);
    this.baselines.set(agentKey, out.agentBaseline);
    this.baselines.set(principalKey, out.principalBaseline);
    for (const { key, record } of out.sodAppends) this.sod.set(key, [...(this.sod.get(key) ?? []), record]);
    return out;
  }
}

export interface Outcome {
  readonly out: StepOutput;
  readonly duplicate: boolean;
  readonly commands: readonly Command[];
  readonly types: readonly string[];
  /** The decision record; fails the test when the step produced none (a duplicate). */
  readonly decision: DecisionRecord;
  readonly codes: readonly string[];
  readonly session: SessionState;
  /** Every output of the given events, in order. */
  readonly history: readonly StepOutput[];
  readonly world: World;
}

export interface Specification {
  when(event: AgentEvent): { then(expectation: (o: Outcome) => void): Outcome };
}

/** given(events...) with an explicit policy: `specification(policy).given(...)`. */
export function specification(policy: CompiledPolicy = compilePolicy()) {
  return {
    given(...events: AgentEvent[]): Specification {
      return {
        when(event) {
          return {
            then(expectation) {
              const world = new World(policy);
              const history = events.map((e) => world.handle(e));
              const out = world.handle(event);
              const outcome: Outcome = {
                out,
                duplicate: out.duplicate,
                commands: out.commands,
                types: out.commands.map((c) => c.type),
                get decision(): DecisionRecord {
                  expect(out.decision, "step produced no decision record").toBeDefined();
                  return out.decision as DecisionRecord;
                },
                codes: out.decision?.signals.map((s) => s.code) ?? [],
                session: out.session,
                history,
                world,
              };
              expectation(outcome);
              return outcome;
            },
          };
        },
      };
    },
  };
}

export const given = (...events: AgentEvent[]): Specification => specification().given(...events);
