import type { AgentEvent, Command } from "../protocol/index.js";
import { actionFacts } from "./action-facts.js";
import type { Baseline, Observation } from "./baseline.js";
import { learn, teaches } from "./baseline.js";
import { buildCommand, combine, decayedRisk, transition } from "./decide.js";
import { callDestinations, isAddress, normalizeDestination } from "./reading/destinations.js";
import type { Verdict } from "../protocol/enforcement.js";
import { check } from "../protocol/enforcement.js";
import { decideGrant } from "./grants.js";
import { caseAfterHold, decideReview, softened, withFeedback } from "./review.js";
import type { Feedback } from "./review.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import { baselineScorer, harmfulWithin, isHarmful } from "./scorers/baseline.js";
import { contextScorer } from "./scorers/context.js";
import { intentScorer } from "./scorers/intent.js";
import { ruleScorer } from "./scorers/rules.js";
import { sensitivityScorer } from "./scorers/sensitivity.js";
import { sequenceScorer } from "./scorers/sequence.js";
import type { ScoreInput, Signal } from "./scorers/scorer.js";
import { sodScorer } from "./scorers/sod.js";
import { injectionScorer } from "./scorers/injection.js";
import { toolScorer } from "./scorers/tools.js";
import type { ActionFacts, ListingFacts, ResultFacts } from "./event-facts.js";
import { readListing } from "./mcp-tools.js";
import { resultFacts } from "./result-facts.js";
import { argumentValues } from "./reading/values.js";
import { goalMentions } from "./reading/destinations.js";
import type { CaseReason, SessionState } from "./session-state.js";
import { NONE, callKey, addCounts, evolve, firstEvent, initialSession, isDuplicate, rememberRun } from "./session-state.js";
import type { LedgerAppend, SodView } from "./sod-ledger.js";
import { firstSteps } from "./sod-ledger.js";
import { toMillis } from "./time.js";
import type { Judgement } from "./judgement.js";
import { judgeSignals } from "./judgement.js";
import { memoise } from "./reading/text.js";
import type { Explanation } from "./explain.js";
import { explain } from "./explain.js";

// One event through the whole decision: fold → score → aggregate → transition → command,
// then learn. Synchronous and deterministic, no clock, no I/O: the caller supplies the
// session, both baselines and a view of the SoD ledger, and stores what comes back.
// Baselines are owned by the caller and updated in place (see learn()). Replay and live
// run this function.

export interface StepInput {
  readonly session: SessionState | undefined;
  readonly agentBaseline: Baseline;
  readonly principalBaseline: Baseline;
  readonly sod: SodView;
  /** A judge's verdict on this very event, when one was asked (see needsJudgement). */
  readonly judgement?: Judgement;
}

export interface DecisionRecord {
  readonly eventId: string;
  readonly eventType: AgentEvent["type"];
  readonly sessionId: string;
  readonly agentId: string;
  readonly principalId: string;
  readonly time: string;
  readonly policyVersion: string;
  readonly riskScore: number;
  readonly signals: readonly Pick<Signal, "code" | "message" | "weight" | "decision">[];
  readonly level: string;
  readonly commandIds: readonly string[];
  /** For actions: what an enforcement point applying Vigil's state would answer for this very call. */
  readonly verdict?: Verdict;
  readonly ruleErrors: readonly { ruleId: string; error: string }[];
  /** The judge's verdict this decision took into account, for the audit trail. */
  readonly judgement?: Judgement;
  /** review.decided (overturned): the findings that now weigh less for this agent, and by what factor. */
  readonly feedback?: readonly Feedback[];
}

export interface StepOutput {
  readonly duplicate: boolean;
  readonly session: SessionState;
  readonly agentBaseline: Baseline;
  readonly principalBaseline: Baseline;
  readonly sodAppends: readonly LedgerAppend[];
  readonly commands: readonly Command[];
  readonly decision?: DecisionRecord;
  /** Each command's explanation with the session's goal and the evidence events (for review cases), in the order of `commands`. */
  readonly explanations?: readonly Explanation[];
}

/** Distinct findings a session remembers for discounting repeats (bounded). */
const MAX_FINDINGS = 64;

const SCORERS = [intentScorer, injectionScorer, sensitivityScorer, sequenceScorer, contextScorer, baselineScorer, sodScorer, toolScorer] as const;

/**
 * Repeated evidence is correlated evidence: the third message to a name read from the same
 * list is not three independent reasons to suspect the session. A weak finding (one that
 * could not reach step-up on its own, and carries no hard decision) that the session already
 * raised for the same capability counts `scoring.factors.repeat` (half) as much each time it recurs. Findings strong
 * enough to act alone, and hard decisions (rules, SoD, sequences), are never discounted.
 */
function discountRepeats(policy: CompiledPolicy, before: SessionState, signals: readonly Signal[]): Signal[] {
  const seen = before.findings;
  if (seen === undefined) return [...signals];
  return signals.map((s) => {
    const n = s.decision === undefined && s.weight < policy.thresholds.step_up ? (seen[findingKey(s)] ?? 0) : 0;
    return n > 0 ? { ...s, weight: s.weight * Math.pow(policy.factors.repeat, n) } : s;
  });
}

const findingKey = (s: Signal): string => s.repeatKey ?? `${s.code}|${s.capability ?? ""}`;

function countFindings(before: SessionState, signals: readonly Signal[]): Readonly<Record<string, number>> {
  const out: Record<string, number> = { ...before.findings };
  for (const s of signals) {
    if (s.decision !== undefined) continue;
    const k = findingKey(s);
    if (Object.hasOwn(out, k)) out[k] = (out[k] as number) + 1;
    else if (Object.keys(out).length < MAX_FINDINGS) out[k] = 1;
  }
  return out;
}

interface Assessment {
  readonly before: SessionState;
  readonly folded: SessionState;
  readonly destinations: string[];
  readonly named: string[];
  readonly facts: ActionFacts | undefined;
  readonly signals: Signal[];
  readonly ruleErrors: readonly { ruleId: string; error: string }[];
  readonly score: number;
}

/** The session an event meets; a session measures bursts against the agent as it was when the session began. */
function sessionBefore(input: StepInput, event: AgentEvent): SessionState {
  const session = input.session ?? initialSession(event);
  if (session.peaksAtStart !== undefined) return session;
  return { ...session, peaksAtStart: peaks(input.agentBaseline.peakPerMinute, input.agentBaseline.peakHarmful ?? 0) };
}

/** Sessions that began against the same peaks share one frozen record of them. */
const peaksRecord = memoise((key: string) => {
  const [perMinute, harmful] = key.split("/").map(Number) as [number, number];
  return Object.freeze({ perMinute, harmful });
}, 1_024);
const peaks = (perMinute: number, harmful: number): NonNullable<SessionState["peaksAtStart"]> => peaksRecord(`${perMinute}/${harmful}`);

/** Fold, facts and scoring: what step() decides on. Pure, and learns nothing. */
function assess(policy: CompiledPolicy, input: StepInput, event: AgentEvent): Assessment {
  const before = sessionBefore(input, event);
  let facts: ActionFacts | undefined;
  let result: ResultFacts | undefined;
  let listing: ListingFacts | undefined;
  let destinations: string[] = [];
  let named: string[] = [];
  let inNames: readonly string[] = NONE;
  if (event.type === "action") {
    const tool = policy.tools.get(event.action.capability);
    const call = callDestinations(event.args, policy.lexicon, tool?.egressArgs);
    named = call.named;
    const resource = event.resource?.destination ? normalizeDestination(event.resource.destination) : undefined;
    if (resource !== undefined && !named.includes(resource)) named = [...named, resource];
    destinations = [...named, ...call.mentioned.filter((d) => d !== resource)];
    inNames = call.inNames;
    const values = argumentValues(event.args, policy.lexicon.notValues, policy.outputs.addressLists);
    const goal = before.intent?.goal;
    // The goal's values the call names; an address among them: the user pointed at this very page, file or account.
    let namesGoalValue = false;
    let namesGoalAddress = false;
    if (goal !== undefined)
      for (const v of [...named, ...values])
        if (goalMentions(goal, v, policy.lexicon)) {
          namesGoalValue = true;
          if (isAddress(v)) namesGoalAddress = true;
        }
    facts = { ...actionFacts(policy, event), values, namesGoalValue, ...(namesGoalAddress ? { namesGoalAddress } : {}) };
  } else if (event.type === "action.result") {
    result = resultFacts(policy, before, event);
  } else if (event.type === "tools.listed") {
    listing = readListing(policy, before.mcpTools ?? NONE, event.tools);
  }
  const folded = evolve(before, event, facts, result, listing);
  const scoreInput: ScoreInput = {
    policy,
    before,
    after: folded,
    event,
    ...(facts ? { facts } : {}),
    ...(result ? { result } : {}),
    ...(listing ? { listing } : {}),
    destinations,
    namedDestinations: named,
    mentionedInNames: inNames,
    agentBaseline: input.agentBaseline,
    principalBaseline: input.principalBaseline,
    sod: input.sod,
  };
  const signals: Signal[] = SCORERS.flatMap((scorer) => scorer(scoreInput));
  const rules = ruleScorer(scoreInput);
  signals.push(...rules.signals);
  if (input.judgement) signals.push(...judgeSignals(policy, event, input.judgement));
  const counted = discountRepeats(policy, before, softened(policy, input.agentBaseline, signals, event.time));
  const score = combine(decayedRisk(policy, before.risk, event.time), counted);
  return { before, folded, destinations, named, facts, signals: counted, ruleErrors: rules.errors, score };
}

/**
 * Whether an event is worth a judge's time: an action, not yet decided by the session's
 * enforcement, whose risk would land in the uncertain band [judgeAskFrom, step_up).
 * Pure: the caller asks the judge and passes the verdict to step() as input.judgement.
 */
export function needsJudgement(policy: CompiledPolicy, input: StepInput, event: AgentEvent): boolean {
  if (event.type !== "action" || isDuplicate(input.session, event.eventId) || input.session?.enforcement.revoked) return false;
  const { judgement: _asked, ...unjudged } = input;
  const { score } = assess(policy, unjudged, event);
  return score >= policy.judgeAskFrom && score < policy.thresholds.step_up;
}

export function step(policy: CompiledPolicy, input: StepInput, event: AgentEvent): StepOutput {
  const nowMs = toMillis(event.time);
  if (isDuplicate(input.session, event.eventId)) {
    return {
      duplicate: true,
      session: sessionBefore(input, event),
      agentBaseline: input.agentBaseline,
      principalBaseline: input.principalBaseline,
      sodAppends: [],
      commands: [],
    };
  }
  const { before, folded, named, facts, signals, ruleErrors, score } = assess(policy, input, event);
  // A copy, not `folded` completed in place: adding properties to an object V8 built by a
  // spread grows it out of line (measured: +1.2 KB per open session with evolve's own).
  let session: SessionState = {
    ...folded,
    risk: { score, at: folded.lastEventTime ?? event.time },
    counters: addCounts(folded.counters, { alerts: signals.length > 0 ? 1 : 0 }),
    ...(signals.some((s) => s.decision === undefined) ? { findings: countFindings(before, signals) } : {}),
  };
  const commands: Command[] = [];
  let level: string;
  let riskScore = score;
  let overturned: readonly CaseReason[] = [];
  if (event.type === "review.decided") {
    const review = decideReview(session, event);
    session = review.session;
    overturned = review.overturned ?? [];
    riskScore = session.risk.score;
    if (review.draft) commands.push(buildCommand(session, event, riskScore, review.draft));
    level = review.level;
  } else if (event.type === "grant.requested") {
    const grant = decideGrant(policy, session, event, score, signals);
    session = grant.session;
    const command = buildCommand(session, event, score, grant.draft);
    commands.push(command);
    // A grant that waits for a reviewer opens (or joins) the session's review case, which carries the request.
    if (grant.pending) session = { ...session, openCase: { ...caseAfterHold(session, command, signals), grant: grant.pending } };
    level = grant.draft.type;
  } else {
    const t = transition(policy, session, event, score, signals);
    if (t.enforcement !== session.enforcement) session = { ...session, enforcement: t.enforcement };
    if (t.draft) {
      const command = buildCommand(session, event, score, t.draft);
      commands.push(command);
      // A hold for a person opens the session's review case, or joins the one open.
      if (command.review.required) session = { ...session, openCase: caseAfterHold(session, command, signals) };
    }
    level = t.level;
  }

  // Expired just-in-time grants fall away in event time.
  if (session.jitGrants.some((g) => toMillis(g.expiresAt) <= nowMs))
    session = { ...session, jitGrants: session.jitGrants.filter((g) => toMillis(g.expiresAt) > nowMs) };

  let verdict: Verdict | undefined;
  let agentBaseline = input.agentBaseline;
  let principalBaseline = input.principalBaseline;
  const sodAppends: LedgerAppend[] = [];
  // A session begins with its start or its first event; a gateway's tool listings that come before either begin nothing.
  const newSession = event.type === "session.started" || (event.type !== "tools.listed" && firstEvent(input.session));
  let ran = false;
  let vouched: string[] = [];
  if (event.type === "action") {
    verdict = check(session.enforcement, event.action.capability, event.resource?.id);
    ran = verdict.outcome === "allow" && event.outcome !== "denied";
    // What vouches for later calls (session memory and the principal's history): the places
    // a call that ran *named* — not those its free text merely mentions — and, for a read,
    // only bare names (the channel it read, the user whose inbox it opened). A read of
    // "eve@evil.example" or of an attacker's page must not launder the address.
    if (ran) {
      const read = facts?.kind === "read";
      vouched = read ? named.filter((d) => !isAddress(d)) : named;
      session = rememberRun(session, event.action.capability, vouched, read ? named.filter(isAddress) : [], callKey(event.action.capability, facts?.values));
    }
    if (verdict.outcome !== "deny" && event.outcome !== "denied") sodAppends.push(...firstSteps(policy.separationOfDuties, session, event));
  }
  if (teaches(event, ran, newSession)) {
    const observation: Observation = {
      event,
      ran,
      newSession,
      firstAttemptInSession: event.type === "action" && !(before.tried ?? before.recent.map((a) => a.capability)).includes(event.action.capability),
      destinations: vouched,
      previousCapability: before.recent[before.recent.length - 1]?.capability,
      actionsInLastMinute: ran ? session.recent.filter((a) => nowMs - a.ms < policy.baseline.rateWindowSeconds * 1000).length : 0,
      harmfulInWindow: ran && isHarmful(facts?.kind) ? harmfulWithin(session, nowMs, policy.burst.windowSeconds) : 0,
    };
    agentBaseline = learn(agentBaseline, observation);
    principalBaseline = learn(principalBaseline, observation);
  }
  // A person judged these findings wrong for this agent: they weigh less from now on.
  let feedback: Feedback[] = [];
  if (overturned.length > 0) ({ baseline: agentBaseline, feedback } = withFeedback(policy, agentBaseline, overturned, event.time));

  // Every command says why in words (core/explain.ts); computed last, it changes no decision.
  const explanations = commands.map((command) => explain({ policy, before, after: session, event, signals, command }));
  const explained = commands.map((c, i) => ({ ...c, explanation: (explanations[i] as Explanation).text }));

  const decision: DecisionRecord = {
    eventId: event.eventId,
    eventType: event.type,
    sessionId: session.sessionId,
    agentId: session.agentId,
    principalId: session.principalId,
    time: event.time,
    policyVersion: policy.version,
    riskScore,
    signals: signals.map((s) => ({ code: s.code, message: s.message, weight: s.weight, ...(s.decision ? { decision: s.decision } : {}) })),
    level,
    commandIds: commands.map((c) => c.commandId),
    ...(verdict ? { verdict } : {}),
    ruleErrors,
    ...(input.judgement ? { judgement: input.judgement } : {}),
    ...(feedback.length > 0 ? { feedback } : {}),
  };
  return {
    duplicate: false,
    session,
    agentBaseline,
    principalBaseline,
    sodAppends,
    commands: explained,
    decision,
    ...(explanations.length > 0 ? { explanations } : {}),
  };
}
