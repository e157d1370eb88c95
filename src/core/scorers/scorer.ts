import type { AgentEvent, Decision } from "../../protocol/index.js";
import type { Baseline } from "../baseline.js";
import type { CompiledPolicy } from "../policy/compiled-policy.js";
import type { SessionState } from "../session-state.js";
import type { SodView } from "../sod-ledger.js";
import type { ActionFacts, ListingFacts, ResultFacts } from "../event-facts.js";
import type { SignalCode } from "../reason-codes.js";

// What a scorer is: a function from what it sees (ScoreInput) to its findings (Signal), and
// the helpers every scorer uses to weigh and key them.

/** One scorer's finding: a weighted reason, optionally with a hard decision (rules, SoD, sequences). */
export interface Signal {
  readonly code: string;
  readonly message: string;
  readonly weight: number;
  readonly decision?: Decision;
  readonly review?: boolean;
  /** The capability the finding implicates, taken away on downgrade. */
  readonly capability?: string;
  /** Deny the capability on this resource only (SoD). */
  readonly resourceId?: string;
  /** Earlier events that are part of the finding (the sensitive read of an exfiltration). */
  readonly evidence?: readonly string[];
  /**
   * What makes a later finding "the same" one, for discounting repeats (default: code and
   * capability). Findings about distinct addresses, or a judge's verdicts, set their own.
   */
  readonly repeatKey?: string;
  /** What the finding is about, for the sentence a person reads (core/explain.ts). No decision reads it. */
  readonly facts?: FindingFacts;
}

/** An earlier event a finding rests on: the first step of a separation of duties, the first action of a sequence. */
export interface PriorEvent {
  readonly eventId: string;
  readonly sessionId: string;
  readonly agentId: string;
  readonly capability: string;
  readonly time: string;
}

/**
 * The facts of a finding a person needs to act on it (core/explain.ts builds the sentence):
 * structured here so the sentence never parses a message. Values come from the call's
 * arguments or a tool's output, so they are attacker-controlled: the explainer caps them.
 */
export interface FindingFacts {
  /** The values at issue: destinations, ordered values, data tags, the place acted from. */
  readonly values?: readonly string[];
  /** The call whose output carried the value or the order. */
  readonly source?: string;
  /** The earlier event this finding conflicts with. */
  readonly prior?: PriorEvent;
}

export interface ScoreInput {
  readonly policy: CompiledPolicy;
  /** The session before the event and after its facts were folded in. */
  readonly before: SessionState;
  readonly after: SessionState;
  readonly event: AgentEvent;
  readonly facts?: ActionFacts;
  /** For an action.result: what its output carries. */
  readonly result?: ResultFacts;
  /** For a tools.listed: the findings on the tools it lists. */
  readonly listing?: ListingFacts;
  /** Every destination of the call: named ones (by argument, or a whole value shaped like one) first, then those mentioned in free text. */
  readonly destinations: readonly string[];
  /** The destinations the call names (not those merely mentioned in its free text). */
  readonly namedDestinations: readonly string[];
  /** Of the mentioned destinations, those written only inside a destination argument's text (a name too long to be an address), not in anything the call sends. */
  readonly mentionedInNames?: readonly string[];
  readonly agentBaseline: Baseline;
  readonly principalBaseline: Baseline;
  readonly sod: SodView;
}

export type Scorer = (input: ScoreInput) => Signal[];

/** The policy's weight for a reason code (`scoring.weights`; compilePolicy checks every code Vigil raises has one). */
export const weightOf = (input: ScoreInput, code: SignalCode): number => input.policy.weights[code] as number;

/** Spreads a repeat key into a finding when there is one. */
export const repeatKeyed = (repeatKey: string | undefined): { repeatKey?: string } => (repeatKey === undefined ? {} : { repeatKey });
