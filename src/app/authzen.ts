import { z } from "zod";
import type { AgentEvent, Command, Verdict } from "../protocol/index.js";
import { formatIssues, validateEvent } from "../protocol/index.js";
import { deriveId } from "../core/ids.js";

// The AuthZEN 1.0 Access Evaluation API (OpenID, January 2026) over Vigil (docs/doors.md):
// a policy enforcement point asks "may this agent do this now?" and the answer is Vigil's.
// Each evaluation is an attempted action: it becomes an `action` event (a session never
// seen before is started first, with the request's goal), held until the processor has
// decided on it (the enforcer's `decided`, then `check`: the same hold and fail mode as an
// enforcement point), and answered `{decision, context}` with the reason codes and the
// command that restricted the session; `reason_user` carries that command's explanation,
// the one sentence a person can act on (core/explain.ts). The mapping is stable and documented:
//   subject  {type: "agent", id: <agent>, properties: {principal, roles}}   (or {type: <any>, id: <principal>, properties: {agent, roles}})
//   action   {name: <capability>, properties: {tool, kind, args}}
//   resource {type, id, properties: {sensitivity, classification, owner, destination}}
//   context  {session_id, goal}
// The HTTP side (routes, auth, caps) is adapters/doors-http.ts; this is the decision.

const MAX_EVALUATIONS = 64;
/** Commands whose explanation says why a call is refused or asked about (a grant's or a restore's does not). */
const RESTRICTING: ReadonlySet<string> = new Set(["revoke", "downgrade", "step_up"]);
/** Sessions whose start and goal this door remembers (oldest forgotten first). */
const MAX_SESSIONS = 100_000;

const Text = z.string().min(1).max(1024);
const Properties = z.record(z.string(), z.unknown());
const Subject = z.object({ type: Text, id: Text, properties: Properties.optional() });
const Action = z.object({
  name: Text,
  properties: z
    .object({ tool: Text.optional(), kind: z.string().optional(), args: z.record(z.string(), z.unknown()).optional() })
    .catchall(z.unknown())
    .optional(),
});
const ResourceRef = z.object({ type: Text, id: Text, properties: Properties.optional() });
const Context = z.object({ session_id: Text.optional(), goal: z.string().max(16_384).optional() }).catchall(z.unknown());

export const EvaluationRequest = z.object({ subject: Subject, action: Action, resource: ResourceRef, context: Context.optional() });
export type EvaluationRequest = z.infer<typeof EvaluationRequest>;

const Partial = z.object({ subject: Subject.optional(), action: Action.optional(), resource: ResourceRef.optional(), context: Context.optional() });
export const EvaluationsRequest = Partial.extend({
  evaluations: z.array(Partial).max(MAX_EVALUATIONS).optional(),
  options: z
    .object({ evaluations_semantic: z.enum(["execute_all", "deny_on_first_deny", "permit_on_first_permit"]).optional() })
    .catchall(z.unknown())
    .optional(),
});
export type EvaluationsRequest = z.infer<typeof EvaluationsRequest>;

export interface Decision {
  readonly decision: boolean;
  readonly context: {
    readonly id: string;
    /** `allow`, `deny`, `step_up` (the person must confirm), or `undecided` (no decision within the hold time). */
    readonly outcome: "allow" | "deny" | "step_up" | "undecided";
    readonly reason_codes?: readonly string[];
    /** The type of the command that restricted the session (`revoke`, `downgrade`, `step_up`). */
    readonly command?: string;
    readonly reason_admin?: { readonly en: string };
    readonly reason_user?: { readonly en: string };
  };
}

export interface AuthzenPorts {
  /** Publishes an evaluation's events in one write for `caller` (the enforcement point's authenticated name, their producer); resolves once Kafka has them. */
  publish(events: readonly AgentEvent[], caller: string): Promise<void>;
  /** Why the policy's authenticity rule refuses `caller` as this event's producer, or undefined. */
  unauthenticated(event: AgentEvent, caller: string): string | undefined;
  /** Resolves true once Vigil's state for the session reflects an event at or after `time`. */
  decided(sessionId: string, time: string, timeoutMs: number): Promise<boolean>;
  check(sessionId: string, capability: string, resourceId: string | undefined): Verdict;
  /** The restricting command the session's state names last (for its reasons), once known; undefined if none comes soon. */
  lastCommand(sessionId: string): Promise<Command | undefined>;
  /** Whether Vigil already knows the session (an enforcement view of it exists). */
  known(sessionId: string): boolean;
  now(): number;
  newId(): string;
}

export interface AuthzenOptions {
  readonly holdMs: number;
  readonly failMode: "closed" | "open";
}

/** A request the door refuses: 400 naming the field and what is wrong, or 403 when the policy's authenticity rule refuses the caller. */
export class AuthzenInputError extends Error {
  readonly code: "invalid_request" | "unauthenticated";
  constructor(
    message: string,
    readonly field: string,
    readonly status: 400 | 403 = 400,
  ) {
    super(message);
    this.code = status === 403 ? "unauthenticated" : "invalid_request";
  }
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Parses with `schema`, or throws the first issue naming its field. */
function parse<T>(schema: z.ZodType<T>, body: unknown, at = ""): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = formatIssues(r.error);
  const field = issue.field.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  const message = issue.message;
  const where = at && field ? `${at}.${field}` : at || field;
  throw new AuthzenInputError(`${where || "body"}: ${message.slice(message.indexOf(": ") + 2)}`, where);
}

/** Who asks: the agent and the principal it acts for, from the subject (field names in errors). */
function who(subject: EvaluationRequest["subject"], at: string): { agent: string; principal: string; roles?: string[] } {
  const roles = subject.properties?.roles;
  if (roles !== undefined && (!Array.isArray(roles) || roles.length > 64 || !roles.every((r) => typeof r === "string" && r !== "" && r.length <= 256)))
    throw new AuthzenInputError(`${at}subject.properties.roles: expected an array of at most 64 role names`, `${at}subject.properties.roles`);
  return { ...whose(subject, at), ...(roles ? { roles: roles as string[] } : {}) };
}

function whose(subject: EvaluationRequest["subject"], at: string): { agent: string; principal: string } {
  if (subject.type === "agent") {
    const principal = str(subject.properties?.principal);
    if (!principal)
      throw new AuthzenInputError(`${at}subject.properties.principal: required when subject.type is "agent"`, `${at}subject.properties.principal`);
    return { agent: subject.id, principal };
  }
  const agent = str(subject.properties?.agent);
  if (!agent)
    throw new AuthzenInputError(
      `${at}subject.properties.agent: required when subject.type is "${subject.type}" (the subject is the principal)`,
      `${at}subject.properties.agent`,
    );
  return { agent, principal: subject.id };
}

export function createAuthzen(options: AuthzenOptions, ports: AuthzenPorts) {
  /** Per session: the last event time this door used (times strictly increase) and the goal it published. */
  const sessions = new Map<string, { time: number; goal: string | undefined }>();
  const keepSession = (sessionId: string, s: { time: number; goal: string | undefined }) => {
    sessions.delete(sessionId);
    sessions.set(sessionId, s);
    if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
  };

  /** What one evaluation will publish, every event checked: built without touching the door's memory (`view` overlays it within a batch). */
  interface Prepared {
    readonly sessionId: string;
    readonly events: AgentEvent[];
    readonly attempted: AgentEvent;
    readonly kept: { time: number; goal: string | undefined };
    readonly capability: string;
    readonly resourceId: string;
  }

  function prepare(request: EvaluationRequest, caller: string, at: string, view: Map<string, { time: number; goal: string | undefined }>): Prepared {
    const { agent, principal, roles } = who(request.subject, at);
    const sessionId = str(request.context?.session_id);
    if (!sessionId) throw new AuthzenInputError(`${at}context.session_id: required (the Vigil session the call belongs to)`, `${at}context.session_id`);
    const goal = str(request.context?.goal);
    const common = { sessionId, agent: { id: agent }, principal: { id: principal, ...(roles ? { roles } : {}) } };
    const seen = view.get(sessionId) ?? sessions.get(sessionId);
    let last = seen?.time ?? 0;
    const next = () => {
      last = Math.max(ports.now(), last + 1);
      return new Date(last).toISOString();
    };
    const props = request.action.properties ?? {};
    const rp = request.resource.properties ?? {};
    const resource = {
      type: request.resource.type,
      id: request.resource.id,
      ...(Array.isArray(rp.sensitivity) ? { sensitivity: rp.sensitivity } : {}),
      ...(str(rp.classification) ? { classification: rp.classification } : {}),
      ...(str(rp.owner) ? { owner: rp.owner } : {}),
      ...(str(rp.destination) ? { destination: rp.destination } : {}),
    };
    const events: Record<string, unknown>[] = [];
    // The start's id is the session's: a second start (another replica, a retry) is a duplicate the processor drops.
    if (seen === undefined && !ports.known(sessionId))
      events.push({ ...common, type: "session.started", eventId: deriveId("authzen-start", [sessionId]), time: next(), intent: { goal: goal ?? "" } });
    else if (goal !== undefined && goal !== seen?.goal)
      events.push({ ...common, type: "intent.updated", eventId: ports.newId(), time: next(), intent: { goal } });
    events.push({
      ...common,
      type: "action",
      eventId: ports.newId(),
      time: next(),
      action: { capability: request.action.name, tool: props.tool ?? request.action.name, ...(props.kind !== undefined ? { kind: props.kind } : {}) },
      resource,
      ...(props.args ? { args: props.args } : {}),
    });
    // Every event checked before anything is published: a bad kind, resource or goal is the caller's 400, never half a session.
    const checked: AgentEvent[] = [];
    for (const e of events) {
      const v = validateEvent(e);
      if (!v.ok) {
        const field = v.field
          .replace(/^action\.kind$/, "action.properties.kind")
          .replace(/^args/, "action.properties.args")
          .replace(/^resource\./, "resource.properties.")
          .replace(/^intent\.goal$/, "context.goal");
        throw new AuthzenInputError(`${at}${field}: ${v.error.slice(v.error.indexOf(": ") + 2)}`, `${at}${field}`);
      }
      const why = ports.unauthenticated(v.value, caller);
      if (why !== undefined) throw new AuthzenInputError(why, "subject", 403);
      checked.push(v.value);
    }
    const kept = { time: last, goal: goal ?? seen?.goal };
    view.set(sessionId, kept);
    return {
      sessionId,
      events: checked,
      attempted: checked[checked.length - 1] as AgentEvent,
      kept,
      capability: request.action.name,
      resourceId: request.resource.id,
    };
  }

  /** Publishes a prepared evaluation (its events in one write: a session's start never lands after its action) and answers it once decided. */
  async function execute(p: Prepared, caller: string): Promise<Decision> {
    await ports.publish(p.events, caller);
    keepSession(p.sessionId, p.kept);
    const id = p.attempted.eventId;
    if (!(await ports.decided(p.sessionId, p.attempted.time, options.holdMs))) {
      const allowed = options.failMode === "open";
      return {
        decision: allowed,
        context: { id, outcome: "undecided", reason_admin: { en: `Vigil did not decide within ${options.holdMs} ms (fail ${options.failMode})` } },
      };
    }
    const verdict = ports.check(p.sessionId, p.capability, p.resourceId);
    if (verdict.outcome === "allow") return { decision: true, context: { id, outcome: "allow" } };
    const command = await ports.lastCommand(p.sessionId);
    const why = command !== undefined && RESTRICTING.has(command.type) ? command.explanation : undefined;
    const held = verdict.outcome === "step_up" ? "This action needs the person's confirmation first" : "Vigil held this action";
    const fallback = verdict.outcome === "step_up" ? `${held}.` : `${held}: it does not fit what the session was asked to do.`;
    return {
      decision: false,
      context: {
        id,
        outcome: verdict.outcome,
        ...(command ? { reason_codes: command.reasons.map((r) => r.code), command: command.type } : {}),
        reason_admin: { en: command ? `${verdict.reason}: ${command.reasons.map((r) => r.message).join("; ")}` : verdict.reason },
        reason_user: { en: why !== undefined ? `${held}. ${why}` : fallback },
      },
    };
  }

  return {
    /** `POST /access/v1/evaluation`. */
    evaluation: async (body: unknown, caller: string): Promise<Decision> => execute(prepare(parse(EvaluationRequest, body), caller, "", new Map()), caller),

    /**
     * `POST /access/v1/evaluations`: each entry of `evaluations` takes the top-level subject,
     * action, resource and context as defaults (an entry's own replaces them); evaluated in
     * order (each is an attempted action of its session), stopping early under
     * `deny_on_first_deny` / `permit_on_first_permit`. Without `evaluations` it is one evaluation.
     */
    async evaluations(body: unknown, caller: string): Promise<{ evaluations: Decision[] } | Decision> {
      const request = parse(EvaluationsRequest, body);
      const { evaluations, options: o, ...defaults } = request;
      if (evaluations === undefined || evaluations.length === 0) return execute(prepare(parse(EvaluationRequest, defaults), caller, "", new Map()), caller);
      // Every entry is built and checked before the first is published: a bad entry publishes nothing.
      const view = new Map<string, { time: number; goal: string | undefined }>();
      const prepared = evaluations.map((e, i) =>
        prepare(parse(EvaluationRequest, { ...defaults, ...e }, `evaluations[${i}]`), caller, `evaluations[${i}].`, view),
      );
      const semantic = o?.evaluations_semantic ?? "execute_all";
      const out: Decision[] = [];
      for (const p of prepared) {
        const d = await execute(p, caller);
        out.push(d);
        if ((semantic === "deny_on_first_deny" && !d.decision) || (semantic === "permit_on_first_permit" && d.decision)) break;
      }
      return { evaluations: out };
    },

    /** `GET /.well-known/authzen-configuration`: the PDP's metadata, for its base URL. */
    configuration: (base: string) => ({
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}/access/v1/evaluation`,
      access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    }),
  };
}

export type Authzen = ReturnType<typeof createAuthzen>;
