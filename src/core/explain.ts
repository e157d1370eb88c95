import type { AgentEvent, Command } from "../protocol/index.js";
import { MAX_EXPLANATION } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { DecisionCode, SignalCode, TOOL_FINDING_CODES } from "./reason-codes.js";
import type { PriorEvent, Signal } from "./scorers/scorer.js";
import type { SessionState } from "./session-state.js";
import { matchSod } from "./sod-ledger.js";

// Why a command was issued, in one sentence a person can act on (issue 27): what the agent
// tried, what the goal asked, where a value came from, which earlier event the call
// conflicts with. Built from the facts of the command's leading finding and what the
// session knows, never by parsing a message; one template per reason code, so a reviewer,
// an agent refused through MCP and an enforcement point asking over AuthZEN read the same
// words. Goals, arguments, tool outputs and judges' reasons are attacker-controlled: every
// such piece is cut to a few hundred characters before anything else reads it, stripped of
// control and bidirectional-override characters, and only ever copied (never evaluated),
// so building a sentence is linear in its bounded inputs.

/** Characters of the goal quoted in the sentence. */
const GOAL_IN_SENTENCE = 160;
/** Characters of the goal a review case shows. */
export const MAX_CASE_GOAL = 2_000;
/** Characters of one value (an address, a tag, a tool's name) in the sentence. */
const VALUE_CHARS = 80;
/** Values named in the sentence; more are counted. */
const VALUES_SHOWN = 3;
/** Characters of a policy's or a judge's message quoted in the sentence. */
const MESSAGE_CHARS = 200;
/** Evidence events a case keeps per explanation. */
const MAX_EVIDENCE = 8;

/** An event a person should look at to judge a hold. */
export interface EvidenceEvent {
  /** `held`: the event the command answers; `source`: the call whose output brought a value or an order; `earlier`: a first step of a sequence; `conflict`: the step separation of duties keeps apart from this one. */
  readonly role: "held" | "source" | "earlier" | "conflict";
  readonly eventId: string;
  readonly sessionId: string;
  readonly agentId?: string;
  readonly capability?: string;
  readonly time?: string;
  /** The finding it backs. */
  readonly code?: string;
}

export interface Explanation {
  readonly commandId: string;
  /** One sentence, at most MAX_EXPLANATION characters. */
  readonly text: string;
  /** The session's goal (capped at MAX_CASE_GOAL), when one is declared. */
  readonly goal?: string;
  readonly evidence: readonly EvidenceEvent[];
}

/** Control characters, format characters (zero-width, bidirectional overrides), line and paragraph separators, white space. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu;

/**
 * Attacker-controlled text made fit for one line: cut first (so the work is bounded by
 * `max`, whatever the input's size), control, zero-width and bidirectional-override
 * characters and runs of white space made one space, then cut to `max` outside a
 * surrogate pair, with an ellipsis when anything was left out.
 */
export function oneLine(text: string, max: number): string {
  const head = text.length > max * 2 ? text.slice(0, max * 2) : text;
  const flat = head.replace(UNSAFE, " ").trim();
  if (flat.length <= max && head.length === text.length) return flat;
  let end = Math.min(flat.length, max - 1);
  const last = flat.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${flat.slice(0, end).trimEnd()}…`;
}

const listOf = (values: readonly string[]): string => {
  const shown = values.slice(0, VALUES_SHOWN).map((v) => oneLine(v, VALUE_CHARS));
  return shown.join(", ") + (values.length > VALUES_SHOWN ? ` (and ${values.length - VALUES_SHOWN} more)` : "");
};

/** What a template reads: the finding's facts, already capped. */
interface Facts {
  /** "Agent a-1 tried expense.approve on ER-1042", or the like for other events. */
  readonly lead: string;
  readonly agent: string;
  readonly principal: string;
  readonly sessionId: string;
  readonly capability: string;
  readonly values: string;
  readonly source: string;
  readonly prior: PriorEvent | undefined;
  /** The policy entry's id (`rule.<id>`, `sequence.<id>`, a separation of duties). */
  readonly entry: string;
  readonly message: string;
  readonly score: number;
  readonly command: Command;
  readonly event: AgentEvent;
  readonly before: SessionState;
  readonly policy: CompiledPolicy;
}

type Template = (f: Facts) => string;

const where = (f: Facts, prior: PriorEvent): string =>
  prior.sessionId === f.sessionId
    ? "earlier in this session"
    : `in session ${oneLine(prior.sessionId, VALUE_CHARS)} (agent ${oneLine(prior.agentId, VALUE_CHARS)})`;

function selfApproval(f: Facts): string {
  const p = f.prior;
  if (p === undefined) return `${f.lead}, a step separation of duties keeps apart from one taken before by the same party`;
  const resourceId = f.event.type === "action" ? f.event.resource?.id : undefined;
  const entry = matchSod(f.policy.separationOfDuties, f.capability, resourceId).find((m) => m.step === 1)?.entry;
  const party =
    entry === undefined || entry.across === "principal" ? `principal ${f.principal}` : entry.across === "agent" ? `agent ${f.agent}` : "this session";
  return `${f.lead}, but ${party} already did ${oneLine(p.capability, VALUE_CHARS)} on it ${where(f, p)} at ${p.time}, and ${entry ? `policy ${oneLine(entry.id, VALUE_CHARS)}` : "separation of duties"} wants someone else for the second step`;
}

const cap = (s: string): string => (s === "" ? s : (s[0] as string).toUpperCase() + s.slice(1));
const ownerOf = (f: Facts): string => f.policy.tools.get(f.capability)?.toolkit ?? "an application";
const from = (f: Facts): string => (f.source !== "" ? `the output of ${f.source}` : "a tool's output");
const previous = (f: Facts): string => f.before.recent[f.before.recent.length - 1]?.capability ?? "the previous call";
const hourOf = (time: string): string => time.slice(11, 13);
const reviewer = (e: AgentEvent): string => (e.type === "review.decided" ? `reviewer ${oneLine(e.review.reviewer, VALUE_CHARS)}` : "a reviewer");
const caseOf = (e: AgentEvent): string => (e.type === "review.decided" ? `case ${oneLine(e.review.caseId, VALUE_CHARS)}` : "the case");

/** One sentence per fixed reason code (the compiler refuses a code without one; test/core/explain.test.ts checks the lists). */
const TEMPLATES: { readonly [C in SignalCode | DecisionCode | (typeof TOOL_FINDING_CODES)[keyof typeof TOOL_FINDING_CODES]]: Template } = {
  "intent.unknown": (f) => `${f.lead}, but the session never declared a goal, so nothing says the person asked for it`,
  "intent.out_of_scope": (f) => `${f.lead}, which is not among the capabilities the session declared`,
  "intent.resource_out_of_scope": (f) => `${f.lead}, but that resource is outside the ones the session declared`,
  "intent.unrelated_capability": (f) => `${f.lead}, which has nothing to do with what the goal asks`,
  "intent.expired": (f) => `${f.lead} after the session's intent expired${f.before.intent?.expiresAt ? ` at ${f.before.intent.expiresAt}` : ""}`,
  "intent.destination_not_in_goal": (f) => `${f.lead}, sending to ${f.values}, which neither the goal nor an earlier call of this session names`,
  "intent.unfamiliar_toolkit": (f) =>
    `${f.lead}, part of ${oneLine(ownerOf(f), VALUE_CHARS)}, which the goal does not mention and principal ${f.principal} has never used`,
  "intent.judge_drift": (f) => `${f.lead}, and the judge found it serves someone other than the person (${f.message})`,
  "intent.injected_instructions": (f) => `${f.lead}, which gives the agent orders the goal does not give${f.values !== "" ? ` (naming ${f.values})` : ""}`,
  "intent.instructed_value": (f) => `${f.lead} with ${f.values}, which only an order inside ${from(f)} named`,
  "intent.third_party_destination": (f) => `${f.lead}, sending to ${f.values}, which came only from text a third party wrote`,
  "intent.delegated_destination": (f) =>
    `${f.lead}, sending to ${f.values}, an address only the source the goal delegated to names, so a person confirms the new payee or recipient`,
  "intent.instructed_call": (f) => `${f.lead}, which an order inside ${from(f)} asks for, not the goal`,
  "sensitivity.above_ceiling": (f) => `${f.lead}, touching ${f.values.split(", ")[0] ?? "sensitive"} data above the ceiling the session declared`,
  "sensitivity.unexpected_tag": (f) => `${f.lead}, touching ${f.values} data the goal does not call for`,
  "baseline.new_capability": (f) => `${f.lead}, which neither this agent nor principal ${f.principal} has used before`,
  "baseline.new_destination": (f) => `${f.lead}, sending to ${f.values}, where principal ${f.principal} has never sent anything`,
  "baseline.rate_spike": (f) => `${f.lead} in a burst far above this agent's usual rate (${f.message})`,
  "baseline.harmful_burst": (f) => `${f.lead} in a burst of sends, deletions or admin changes far above this agent's peak (${f.message})`,
  "baseline.rare_transition": (f) => `${f.lead} right after ${oneLine(previous(f), VALUE_CHARS)}, a step this agent has never taken in that order`,
  "context.device_noncompliant": (f) => `${f.lead} from a device that is not compliant`,
  "context.new_geo": (f) => `${f.lead} from ${f.values}, where principal ${f.principal} has never acted`,
  "context.new_ip": (f) => `${f.lead} from ${f.values}, an address principal ${f.principal} has never used`,
  "context.unusual_hour": (f) => `${f.lead} at ${hourOf(f.event.time)}:00 UTC, an hour unusual for principal ${f.principal}`,
  "context.tool_poisoning": (f) => `${f.lead} a tool whose texts give the agent orders: the ${f.message}`,
  "context.tool_changed": (f) => `${f.lead} a tool that changed under it: the ${f.message}`,
  "context.tool_shadowing": (f) => `${f.lead} a tool that passes for another or steers its use: the ${f.message}`,
  "sod.self_approval": selfApproval,
  "rule.cumulative_risk": (f) => `${f.lead} while the session's findings so far keep its risk at ${f.score.toFixed(2)}, past a threshold of the policy`,
  "grant.never": (f) => `${f.lead}, which the policy never grants just in time`,
  "grant.session_restricted": (f) => `${f.lead} while the session is restricted (${f.message})`,
  "grant.risk_too_high": (f) => `${f.lead} while the session's risk (${f.score.toFixed(2)}) is at the step-up threshold or above`,
  "grant.needs_review": (f) => `${f.lead}; the policy grants it only once a reviewer confirms`,
  "grant.within_intent": (f) => `${f.lead} and got it${f.command.expiresAt ? ` until ${f.command.expiresAt}` : ""}: it is within what the session declared`,
  "grant.goal_backed": (f) =>
    `${f.lead} and got it${f.command.expiresAt ? ` until ${f.command.expiresAt}` : ""}: the goal asks for it, though the session did not declare it`,
  "review.confirmed": (f) =>
    f.command.type === "grant"
      ? `${cap(reviewer(f.event))} confirmed ${caseOf(f.event)}, so ${oneLine(f.command.grant?.capability ?? "the capability asked for", VALUE_CHARS)} is granted${f.command.expiresAt ? ` until ${f.command.expiresAt}` : ""}`
      : `${cap(reviewer(f.event))} confirmed ${caseOf(f.event)} and revoked the session`,
  "review.overturned": (f) => `${cap(reviewer(f.event))} overturned ${caseOf(f.event)}: every restriction on the session is lifted`,
};

/** Codes the policy names: the family's sentence, with the entry's id and its message. */
const FAMILY_TEMPLATES: Readonly<Record<string, Template>> = {
  rule: (f) => `${f.lead}, which policy rule ${f.entry} holds: ${f.message}`,
  sequence: (f) =>
    f.prior
      ? `${f.lead} after ${oneLine(f.prior.capability, VALUE_CHARS)}${f.values !== "" ? ` had read ${f.values} data` : ""} ${where(f, f.prior)} (at ${f.prior.time}): the pattern policy ${f.entry} holds`
      : `${f.lead}, the pattern policy ${f.entry} holds`,
};

/** Whether Vigil has a sentence for a reason code (every code it raises must). */
export function hasSentence(code: string): boolean {
  const family = code.slice(0, code.indexOf("."));
  return Object.hasOwn(TEMPLATES, code) || (Object.hasOwn(FAMILY_TEMPLATES, family) && code.length > family.length + 1);
}

function leadOf(event: AgentEvent, agent: string, source: string): string {
  const on = (id: string | undefined) => (id !== undefined ? ` on ${oneLine(id, VALUE_CHARS)}` : "");
  switch (event.type) {
    case "action":
      return `Agent ${agent} tried ${oneLine(event.action.capability, VALUE_CHARS)}${on(event.resource?.id)}`;
    case "grant.requested":
      return `Agent ${agent} asked for ${oneLine(event.capability, VALUE_CHARS)}${on(event.resource?.id)} just in time`;
    case "action.result":
      return `Agent ${agent} read the result of ${source !== "" ? source : "a call"}`;
    case "context.changed":
      return `Agent ${agent} continued the session`;
    case "tools.listed":
      return `Agent ${agent} was listed`;
    case "session.started":
    case "intent.updated":
    case "session.ended":
    case "review.decided":
    case "step_up.answered":
      return `Agent ${agent} acted`;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** Families whose sentence is about what the session was asked to do: the goal follows it. */
const GOAL_FAMILIES = new Set(["intent", "sensitivity", "grant", "rule", "sequence"]);

export interface ExplainInput {
  readonly policy: CompiledPolicy;
  /** The session the event met. */
  readonly before: SessionState;
  /** The session after the decision (its goal, for an event that restated it). */
  readonly after: SessionState;
  readonly event: AgentEvent;
  /** The decision's findings. */
  readonly signals: readonly Signal[];
  readonly command: Command;
}

/** The sentence, the goal and the evidence of one command (pure; bounded work). */
export function explain(input: ExplainInput): Explanation {
  const { command, event, signals, before } = input;
  const lead = command.reasons[0] ?? { code: "rule.cumulative_risk", message: "" };
  const finding = signals.find((s) => s.code === lead.code && s.message === lead.message) ?? signals.find((s) => s.code === lead.code);
  const facts = finding?.facts;
  const agent = oneLine(command.agentId, VALUE_CHARS);
  // An output's own call, when the finding does not name it: the action it answers.
  const answered = event.type === "action.result" ? before.recent.find((a) => a.eventId === event.actionEventId)?.capability : undefined;
  const source = oneLine(facts?.source ?? answered ?? "", VALUE_CHARS);
  const capability = finding?.capability ?? (event.type === "action" ? event.action.capability : event.type === "grant.requested" ? event.capability : "");
  const family = lead.code.slice(0, lead.code.indexOf("."));
  const f: Facts = {
    lead: leadOf(event, agent, source),
    agent,
    principal: oneLine(command.principalId, VALUE_CHARS),
    sessionId: command.sessionId,
    capability: oneLine(capability, VALUE_CHARS),
    values: listOf(facts?.values ?? []),
    source,
    prior: facts?.prior,
    entry: oneLine(lead.code.slice(family.length + 1), VALUE_CHARS),
    message: oneLine(lead.message, MESSAGE_CHARS),
    score: command.riskScore,
    command,
    event,
    before,
    policy: input.policy,
  };
  const template = Object.hasOwn(TEMPLATES, lead.code)
    ? TEMPLATES[lead.code as keyof typeof TEMPLATES]
    : (FAMILY_TEMPLATES[family] ?? ((x: Facts) => `${x.lead}: ${x.message}`));
  const goalText = input.after.intent?.goal.trim() || before.intent?.goal.trim() || undefined;
  const goal =
    GOAL_FAMILIES.has(family) && lead.code !== "intent.unknown" && event.type !== "review.decided"
      ? goalText !== undefined
        ? `; the goal asked: “${oneLine(goalText, GOAL_IN_SENTENCE)}”`
        : "; the session declared no goal"
      : "";
  const others = command.reasons.length - 1;
  const more = others > 0 ? ` (${others} other finding${others === 1 ? "" : "s"} add${others === 1 ? "s" : ""} to it)` : "";
  const text = oneLine(`${template(f)}${goal}${more}.`, MAX_EXPLANATION);
  return {
    commandId: command.commandId,
    text,
    ...(goalText !== undefined ? { goal: oneLine(goalText, MAX_CASE_GOAL) } : {}),
    evidence: evidenceOf(input),
  };
}

/** The events behind a command: the one it answers, the earlier ones its findings name, and the calls whose output brought a value or an order. */
function evidenceOf({ command, event, signals, before }: ExplainInput): EvidenceEvent[] {
  const out: EvidenceEvent[] = [];
  const seen = new Set<string>();
  const add = (e: EvidenceEvent) => {
    if (seen.has(`${e.sessionId}\u0000${e.eventId}`) || out.length >= MAX_EVIDENCE) return;
    seen.add(`${e.sessionId}\u0000${e.eventId}`);
    out.push(e);
  };
  const recent = (eventId: string) => before.recent.find((a) => a.eventId === eventId);
  const capabilityOf = event.type === "action" ? event.action.capability : event.type === "grant.requested" ? event.capability : undefined;
  add({
    role: "held",
    eventId: event.eventId,
    sessionId: command.sessionId,
    agentId: command.agentId,
    ...(capabilityOf !== undefined ? { capability: capabilityOf } : {}),
    time: event.time,
  });
  for (const s of signals) {
    const prior = s.facts?.prior;
    if (prior !== undefined) add({ role: s.code.startsWith("sod.") ? "conflict" : "earlier", ...prior, code: s.code });
    const source = s.facts?.source;
    // The output's call: the latest action of that capability the session remembers.
    const call = source === undefined ? undefined : [...before.recent].reverse().find((a) => a.capability === source);
    if (call !== undefined)
      add({ role: "source", eventId: call.eventId, sessionId: command.sessionId, capability: call.capability, time: call.time, code: s.code });
  }
  for (const id of command.causedBy) {
    const a = recent(id);
    add({ role: "earlier", eventId: id, sessionId: command.sessionId, ...(a ? { capability: a.capability, time: a.time } : {}) });
  }
  return out;
}
