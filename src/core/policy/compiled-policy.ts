import type { ActionMatcher, PolicyFile, RuleEntry, SequenceEntry, SodEntry, Thresholds, ToolEntry } from "../../protocol/index.js";
import type { BaselineKnobs } from "../baseline.js";
import { deriveId } from "../ids.js";
import { nounTerms, objectTerms } from "../action-facts.js";
import type { Condition } from "./cel.js";
import { compileCondition } from "./cel.js";
import { DEFAULT_POLICY_YAML } from "./default-policy.js";
import { PolicyError, parsePolicyText } from "./load-policy.js";
import type { PolicyProblem } from "./load-policy.js";

// The compiled form of a policy: catalog indexed, CEL compiled once, defaults resolved.

export const DEFAULT_WEIGHTS: Readonly<Record<string, number>> = {
  "intent.unknown": 0.3,
  "intent.out_of_scope": 0.6,
  "intent.resource_out_of_scope": 0.5,
  "intent.unrelated_capability": 0.35,
  "intent.expired": 0.5,
  "intent.destination_not_in_goal": 0.5,
  "intent.unfamiliar_toolkit": 0.6,
  "intent.judge_drift": 0.6,
  "intent.injected_instructions": 0.05,
  "intent.instructed_value": 0.8,
  "intent.third_party_destination": 0.45,
  "intent.instructed_call": 0.55,
  "sensitivity.above_ceiling": 0.6,
  "sensitivity.unexpected_tag": 0.4,
  "baseline.new_capability": 0.2,
  "baseline.new_destination": 0.3,
  "baseline.rate_spike": 0.3,
  "baseline.rare_transition": 0.05,
  "context.device_noncompliant": 0.55,
  "context.new_geo": 0.3,
  "context.new_ip": 0.1,
  "context.unusual_hour": 0.15,
};

export interface CatalogTool extends ToolEntry {
  /** The object stems only (what the tool is about): matched against a goal's. */
  readonly terms: ReadonlySet<string>;
}

export interface CompiledRule {
  readonly entry: RuleEntry;
  readonly condition: Condition;
}

export interface CompiledPolicy {
  /** Stable hash of the effective policy: appears in audit records and metrics. */
  readonly version: string;
  readonly source: string;
  readonly tools: ReadonlyMap<string, CatalogTool>;
  /** Toolkit name → its tools and the object stems of all of them together (what the application is about). */
  readonly toolkits: ReadonlyMap<string, { readonly tools: readonly string[]; readonly terms: ReadonlySet<string> }>;
  readonly separationOfDuties: readonly SodEntry[];
  readonly sequences: readonly (SequenceEntry & { first: readonly ActionMatcher[]; then: readonly ActionMatcher[] })[];
  readonly rules: readonly CompiledRule[];
  readonly thresholds: Thresholds;
  readonly halfLifeSeconds: number;
  readonly weights: Readonly<Record<string, number>>;
  readonly baseline: BaselineKnobs;
  readonly workingHours?: { start: number; end: number };
  readonly maxGrantTtlSeconds: number;
  /** Risk from which an action is put to the judge, when one is configured (below thresholds.step_up). */
  readonly judgeAskFrom: number;
  readonly outputs: { readonly maxScannedChars: number; readonly maxValues: number };
}

const byId = <T extends { id: string }>(base: readonly T[] = [], over: readonly T[] = []): T[] => {
  const ids = new Set(over.map((e) => e.id));
  return [...base.filter((e) => !ids.has(e.id)), ...over];
};

function merge(base: PolicyFile, file: PolicyFile): PolicyFile {
  if (file.extends === "none") return file;
  const tools = new Map((base.tools ?? []).map((t) => [t.capability, t]));
  for (const t of file.tools ?? []) tools.set(t.capability, t);
  return {
    version: 1,
    extends: "none",
    tools: [...tools.values()],
    separationOfDuties: byId(base.separationOfDuties, file.separationOfDuties),
    sequences: byId(base.sequences, file.sequences),
    rules: byId(base.rules, file.rules),
    thresholds: file.thresholds ?? base.thresholds,
    scoring: {
      ...base.scoring,
      ...file.scoring,
      weights: { ...base.scoring?.weights, ...file.scoring?.weights },
      baseline: { ...base.scoring?.baseline, ...file.scoring?.baseline },
      grants: { ...base.scoring?.grants, ...file.scoring?.grants },
      judge: { ...base.scoring?.judge, ...file.scoring?.judge },
      outputs: { ...base.scoring?.outputs, ...file.scoring?.outputs },
    },
  };
}

const asList = (m: ActionMatcher | ActionMatcher[]): ActionMatcher[] => (Array.isArray(m) ? m : [m]);

function parseOrThrow(text: string, source: string): PolicyFile {
  const parsed = parsePolicyText(text);
  if (!parsed.ok) throw new PolicyError(source, parsed.problems ?? [{ line: 1, column: 1, field: parsed.field, message: parsed.error }]);
  return parsed.value;
}

/** Compiles a policy text (or the default with none). Throws PolicyError with line-precise problems. */
export function compilePolicy(text?: string, source = "policy.yaml"): CompiledPolicy {
  const base = parseOrThrow(DEFAULT_POLICY_YAML, "default-policy");
  const effective = text === undefined ? base : merge(base, parseOrThrow(text, source));
  const problems: PolicyProblem[] = [];
  const rules: CompiledRule[] = [];
  for (const [i, entry] of (effective.rules ?? []).entries()) {
    const compiled = compileCondition(entry.when);
    if (compiled.ok) rules.push({ entry, condition: compiled.condition });
    // Unreachable for files (parsePolicyText checks their rules with positions); kept for the shipped default.
    else problems.push({ line: 1, column: 1, field: `rules.${i}.when`, message: `rule ${entry.id}: ${compiled.error}` });
  }
  if (problems.length > 0) throw new PolicyError(source, problems);
  const tools = new Map<string, CatalogTool>();
  const textOf = (t: ToolEntry) => `${t.capability} ${t.description ?? ""} ${t.toolkit ?? ""}`;
  for (const t of effective.tools ?? []) tools.set(t.capability, { ...t, terms: objectTerms(textOf(t)) });
  const toolkits = new Map<string, { tools: string[]; terms: Set<string> }>();
  for (const t of tools.values()) {
    if (t.toolkit === undefined) continue;
    let kit = toolkits.get(t.toolkit);
    if (!kit) toolkits.set(t.toolkit, (kit = { tools: [], terms: new Set() }));
    kit.tools.push(t.capability);
    for (const term of nounTerms(textOf(t))) kit.terms.add(term);
  }
  // A noun many applications share ("details", "id", "user") says nothing about which one a
  // request is about: with enough toolkits to tell (8 or more), nouns found in more than
  // max(3, an eighth of them) are dropped from every toolkit's terms.
  if (toolkits.size >= 8) {
    const df = new Map<string, number>();
    for (const kit of toolkits.values()) for (const term of kit.terms) df.set(term, (df.get(term) ?? 0) + 1);
    for (const kit of toolkits.values()) for (const term of kit.terms) if ((df.get(term) ?? 0) > Math.max(3, toolkits.size / 8)) kit.terms.delete(term);
  }
  const scoring = effective.scoring ?? {};
  return {
    version: deriveId("pol", [JSON.stringify(effective)]).slice(0, 16),
    source: text === undefined ? "default" : source,
    tools,
    toolkits,
    separationOfDuties: effective.separationOfDuties ?? [],
    sequences: (effective.sequences ?? []).map((s) => ({ ...s, first: asList(s.first), then: asList(s.then) })),
    rules,
    thresholds: effective.thresholds ?? { step_up: 0.5, downgrade: 0.7, revoke: 0.9 },
    halfLifeSeconds: scoring.halfLifeSeconds ?? 900,
    weights: { ...DEFAULT_WEIGHTS, ...scoring.weights },
    baseline: { minSessions: scoring.baseline?.minSessions ?? 5, minActions: scoring.baseline?.minActions ?? 20 },
    ...(scoring.workingHours ? { workingHours: scoring.workingHours } : {}),
    maxGrantTtlSeconds: scoring.grants?.maxTtlSeconds ?? 3600,
    judgeAskFrom: scoring.judge?.askFrom ?? 0.15,
    outputs: { maxScannedChars: scoring.outputs?.maxScannedChars ?? 32_768, maxValues: scoring.outputs?.maxValues ?? 128 },
  };
}
