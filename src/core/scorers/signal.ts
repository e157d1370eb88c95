import type { AgentEvent, Decision } from "../../protocol/index.js";
import type { Baseline } from "../baseline.js";
import type { CompiledPolicy } from "../policy/compiled-policy.js";
import type { ActionFacts, SessionState } from "../session-state.js";
import type { SodView } from "../sod-ledger.js";
import type { ResultFacts } from "../result-facts.js";

/** Every reason code a scorer weighs from `scoring.weights` (rules, SoD and sequences carry their own). */
export const WEIGHTED_CODES = [
  "intent.unknown",
  "intent.out_of_scope",
  "intent.resource_out_of_scope",
  "intent.unrelated_capability",
  "intent.expired",
  "intent.destination_not_in_goal",
  "intent.unfamiliar_toolkit",
  "intent.judge_drift",
  "intent.injected_instructions",
  "intent.instructed_value",
  "intent.third_party_destination",
  "intent.delegated_destination",
  "intent.instructed_call",
  "sensitivity.above_ceiling",
  "sensitivity.unexpected_tag",
  "baseline.new_capability",
  "baseline.new_destination",
  "baseline.rate_spike",
  "baseline.harmful_burst",
  "baseline.rare_transition",
  "context.device_noncompliant",
  "context.new_geo",
  "context.new_ip",
  "context.unusual_hour",
] as const;
export type SignalCode = (typeof WEIGHTED_CODES)[number];

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
  /** Every destination of the call: named ones (by argument, or a whole value shaped like one) first, then those mentioned in free text. */
  readonly destinations: readonly string[];
  /** The destinations the call names (not those merely mentioned in its free text). */
  readonly namedDestinations: readonly string[];
  readonly agentBaseline: Baseline;
  readonly principalBaseline: Baseline;
  readonly sod: SodView;
}

export type Scorer = (input: ScoreInput) => Signal[];

/** The policy's weight for a reason code (`scoring.weights`; compilePolicy checks every code Vigil raises has one). */
export const weightOf = (input: ScoreInput, code: SignalCode): number => input.policy.weights[code] as number;

/** Spreads a repeat key into a finding when there is one. */
export const repeatKeyed = (repeatKey: string | undefined): { repeatKey?: string } => (repeatKey === undefined ? {} : { repeatKey });
