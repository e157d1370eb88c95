import type { ActionMatcher, PolicyFile, RuleEntry, Scoring, SequenceEntry, SodEntry, Thresholds, ToolEntry } from "../../protocol/index.js";
import { CompleteScoring, McpPolicy } from "../../protocol/index.js";
import type { BaselineKnobs } from "../baseline.js";
import { deriveId } from "../ids.js";
import { goalText, looksLikeDestination } from "../reading/destinations.js";
import type { Lexicon } from "../reading/lexicon.js";
import { buildLexicon } from "../reading/lexicon.js";
import { WEIGHTED_CODES } from "../reason-codes.js";
import { stem, words } from "../reading/text.js";
import type { Condition } from "./cel.js";
import { compileCondition } from "./cel.js";
import { DEFAULT_POLICY_YAML } from "./default-policy.js";
import { PolicyError, parsePolicyText } from "./load-policy.js";
import type { PolicyProblem } from "./load-policy.js";

// The compiled form of a policy: catalog indexed, CEL compiled once, every scoring knob
// resolved. Defaults live in the shipped policy YAML only (default-policy.ts): the file's
// `scoring` is merged over the default's key by key, and the result must be complete.

export interface CatalogTool extends ToolEntry {
  /** The object stems only (what the tool is about): matched against a goal's. */
  readonly terms: ReadonlySet<string>;
  /** scoring.catalog.ownVerb: the stem of the tool's own verb that its objects left out (see ownVerb), when there is one. */
  readonly ownVerb?: string;
}

export interface CompiledRule {
  readonly entry: RuleEntry;
  readonly condition: Condition;
  /**
   * The event type the condition requires when it opens with `event.type == "<type>" &&`:
   * for events of other types the conjunction is false whatever follows, so it is not
   * evaluated (CEL's && is false when either side is false, errors included).
   */
  readonly eventType?: string;
}

const TYPE_GUARD = /^\s*event\.type\s*==\s*"([a-z.]+)"\s*(&&|$)/;

/** Whether a CEL condition has an `||` or a `?` outside parentheses and strings (then its opening `&&` does not bind it all). */
function topLevelOr(source: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (quote !== undefined) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0 && (c === "?" || (c === "|" && source[i + 1] === "|"))) return true;
  }
  return false;
}

export interface CompiledPolicy {
  /** Stable hash of the effective policy: appears in audit records and metrics. */
  readonly version: string;
  readonly source: string;
  readonly tools: ReadonlyMap<string, CatalogTool>;
  /** Toolkit name → its tools, the object stems of all of them together (what the application is about) and of its name. */
  readonly toolkits: ReadonlyMap<string, { readonly tools: readonly string[]; readonly terms: ReadonlySet<string>; readonly names: ReadonlySet<string> }>;
  /** scoring.toolkits.byTool: a goal mentions an application by its name or the called tool's own nouns only. */
  readonly toolkitsByTool: boolean;
  /** scoring.toolkits.goalValueRead: a read naming a goal's value does not make its application unfamiliar. */
  readonly toolkitsGoalValueRead: boolean;
  /**
   * scoring.toolkits.namedOnly: the stems of applications' names that no other application's
   * tools have, each to its application (empty when the knob is off).
   */
  readonly toolkitOwnNames: ReadonlyMap<string, string>;
  readonly separationOfDuties: readonly SodEntry[];
  readonly sequences: readonly (SequenceEntry & { first: readonly ActionMatcher[]; then: readonly ActionMatcher[] })[];
  readonly rules: readonly CompiledRule[];
  readonly thresholds: Thresholds;
  readonly halfLifeSeconds: number;
  readonly weights: Readonly<Record<string, number>>;
  readonly baseline: BaselineKnobs & CompleteScoring["baseline"];
  readonly workingHours?: { start: number; end: number };
  readonly maxGrantTtlSeconds: number;
  /** How reviewers' overturns soften findings (scoring.review.feedback). */
  readonly feedback: CompleteScoring["review"]["feedback"];
  /** Risk from which an action is put to the judge, when one is configured (below thresholds.step_up). */
  readonly judgeAskFrom: number;
  readonly outputs: CompleteScoring["outputs"];
  readonly factors: CompleteScoring["factors"];
  readonly burst: CompleteScoring["burst"];
  /** The ladder of responses (scoring.ladder): the codes that are strong evidence at full weight. */
  readonly ladder: { readonly enabled: boolean; readonly declineNeedsFinding: boolean; readonly strong: ReadonlySet<string> };
  /** How catalog entries are read (scoring.catalog). */
  readonly catalog: CompleteScoring["catalog"];
  /** The words of `scoring.words`, with the memoised text functions built on them. */
  readonly lexicon: Lexicon;
  /** Who may publish which events (absent: anyone who can write to the topic). */
  readonly authenticity?: { readonly require: "producer" | "signature"; readonly producers: readonly string[]; readonly types: ReadonlySet<string> };
  /** Just-in-time grant rules (absent: none; every request is weighed on intent and risk alone). */
  readonly grantRules?: {
    readonly never: readonly string[];
    readonly review: readonly string[];
    readonly maxTtlSeconds: readonly (readonly [string, number])[];
  };
  /** What follows each finding on a session's MCP tool definitions (the `mcp` section; `hold` for each when absent). */
  readonly mcp: McpPolicy;
}

/** Every MCP finding held when a policy has no `mcp` section. */
const MCP_DEFAULTS: McpPolicy = Object.freeze(McpPolicy.parse({}));

/** Merges plain objects key by key at every depth; lists and scalars of `over` replace. */
function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof base !== "object" || base === null || Array.isArray(base) || typeof over !== "object" || over === null || Array.isArray(over)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = Object.hasOwn(out, k) ? deepMerge(out[k], v) : v;
  return out as T;
}

const byId = <T extends { id: string }>(base: readonly T[] = [], over: readonly T[] = []): T[] => {
  const ids = new Set(over.map((e) => e.id));
  return [...base.filter((e) => !ids.has(e.id)), ...over];
};

/**
 * The effective policy. `extends: default` merges the catalog by capability and the lists by
 * id; `extends: none` replaces them. Either way `thresholds` falls back to the default's and
 * `scoring` is merged over the default's key by key: every knob has exactly one default.
 */
function merge(base: PolicyFile, file: PolicyFile): PolicyFile {
  const scoring = deepMerge<Scoring>(base.scoring ?? {}, file.scoring);
  if (file.extends === "none")
    return { ...file, thresholds: file.thresholds ?? base.thresholds, scoring, ...authenticityOf(base, file), ...grantsOf(base, file), ...mcpOf(base, file) };
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
    scoring,
    ...authenticityOf(base, file),
    ...grantsOf(base, file),
    ...mcpOf(base, file),
  };
}

/** `mcp` replaces as a whole (keys it leaves out are `hold`); absent, the key stays absent (the policy version is unchanged). */
const mcpOf = (base: PolicyFile, file: PolicyFile) => {
  const m = file.mcp ?? base.mcp;
  return m ? { mcp: m } : {};
};

/** `grants` replaces as a whole; absent, the key stays absent (the policy version is unchanged). */
const grantsOf = (base: PolicyFile, file: PolicyFile) => {
  const g = file.grants ?? base.grants;
  return g ? { grants: g } : {};
};

/** `authenticity` replaces as a whole; absent, the key stays absent (the shipped policy has none, and its version hash is unchanged). */
const authenticityOf = (base: PolicyFile, file: PolicyFile) => {
  const a = file.authenticity ?? base.authenticity;
  return a ? { authenticity: a } : {};
};

const asList = (m: ActionMatcher | ActionMatcher[]): ActionMatcher[] => (Array.isArray(m) ? m : [m]);

function parseOrThrow(text: string, source: string): PolicyFile {
  const parsed = parsePolicyText(text);
  if (!parsed.ok) throw new PolicyError(source, parsed.problems ?? [{ line: 1, column: 1, field: parsed.field, message: parsed.error }]);
  return parsed.value;
}

/**
 * scoring.catalog.ownVerb: the stem of the verb a tool's description opens with in the third
 * person ("Gives priority to…") when the tool's name has it too (a word of the name that is
 * not its application's): that word says what the tool does, not what it is about, even when
 * the verb table does not know it ("give" would otherwise relate "give me a summary" to it).
 * Only verbs the table does not know: its own verbs relate a goal through goalAsksTo.
 * Noun-verbs ("message", "tweet") stay objects.
 */
function ownVerb(lexicon: Lexicon, t: ToolEntry): string | undefined {
  const first = words(t.description ?? "")[0];
  if (first === undefined || first.length < 4 || !first.endsWith("s")) return undefined;
  const base = [first.slice(0, -1), ...(first.endsWith("es") ? [first.slice(0, -2)] : [])];
  const app = new Set(words(t.toolkit ?? ""));
  const name = words(t.capability).filter((w) => !app.has(w));
  const verb = base.find((b) => name.includes(b) && !lexicon.isNounVerb(b) && lexicon.leadingVerbKind(b) === undefined);
  return verb === undefined ? undefined : stem(verb);
}

/** Compiles a policy text (or the default with none). Throws PolicyError with line-precise problems. */
export function compilePolicy(text?: string, source = "policy.yaml"): CompiledPolicy {
  const base = parseOrThrow(DEFAULT_POLICY_YAML, "default-policy");
  const effective = text === undefined ? base : merge(base, parseOrThrow(text, source));
  const problems: PolicyProblem[] = [];
  const rules: CompiledRule[] = [];
  for (const [i, entry] of (effective.rules ?? []).entries()) {
    const compiled = compileCondition(entry.when);
    const guard = topLevelOr(entry.when) ? undefined : TYPE_GUARD.exec(entry.when)?.[1];
    if (compiled.ok) rules.push({ entry, condition: compiled.condition, ...(guard !== undefined ? { eventType: guard } : {}) });
    // Unreachable for files (parsePolicyText checks their rules with positions); kept for the shipped default.
    else problems.push({ line: 1, column: 1, field: `rules.${i}.when`, message: `rule ${entry.id}: ${compiled.error}` });
  }
  const complete = CompleteScoring.safeParse(effective.scoring);
  // Unreachable unless the shipped default lacks a key (a spec compiles it): files are merged over it.
  if (!complete.success)
    for (const issue of complete.error.issues)
      problems.push({ line: 1, column: 1, field: ["scoring", ...issue.path.map(String)].join("."), message: issue.message });
  if (problems.length > 0 || !complete.success || effective.thresholds === undefined) throw new PolicyError(source, problems);
  const scoring = complete.data;
  for (const code of WEIGHTED_CODES)
    if (!Object.hasOwn(scoring.weights, code))
      problems.push({ line: 1, column: 1, field: `scoring.weights.${code}`, message: "missing: every reason code needs a weight" });
  if (problems.length > 0) throw new PolicyError(source, problems);
  const lexicon = buildLexicon(scoring.words, looksLikeDestination, goalText, scoring.outputs.addressLists, scoring.outputs.dates);
  const { objectTerms, nounTerms } = lexicon;
  const tools = new Map<string, CatalogTool>();
  const textOf = (t: ToolEntry) => `${t.capability} ${t.description ?? ""} ${t.toolkit ?? ""}`;
  for (const t of effective.tools ?? []) {
    const terms = objectTerms(textOf(t));
    const verb = scoring.catalog.ownVerb ? ownVerb(lexicon, t) : undefined;
    tools.set(
      t.capability,
      verb === undefined || !terms.has(verb) ? { ...t, terms } : { ...t, terms: new Set([...terms].filter((x) => x !== verb)), ownVerb: verb },
    );
  }
  const toolkits = new Map<string, { tools: string[]; terms: Set<string>; names: ReadonlySet<string> }>();
  for (const t of tools.values()) {
    if (t.toolkit === undefined) continue;
    let kit = toolkits.get(t.toolkit);
    if (!kit) toolkits.set(t.toolkit, (kit = { tools: [], terms: new Set(), names: objectTerms(t.toolkit) }));
    kit.tools.push(t.capability);
    for (const term of nounTerms(textOf(t))) kit.terms.add(term);
  }
  // A noun many applications share ("details", "id", "user") says nothing about which one a
  // request is about: with enough toolkits to tell (scoring.toolkits.minToolkits), nouns
  // found in more than max(sharedFloor, sharedShare × toolkits) are dropped from every
  // toolkit's terms.
  const k = scoring.toolkits;
  if (toolkits.size >= k.minToolkits) {
    const df = new Map<string, number>();
    for (const kit of toolkits.values()) for (const term of kit.terms) df.set(term, (df.get(term) ?? 0) + 1);
    for (const kit of toolkits.values())
      for (const term of kit.terms) if ((df.get(term) ?? 0) > Math.max(k.sharedFloor, toolkits.size * k.sharedShare)) kit.terms.delete(term);
  }
  // scoring.toolkits.namedOnly: a word of an application's name that no other application's tools or name have.
  const toolkitOwnNames = new Map<string, string>();
  if (k.namedOnly) {
    const owners = new Map<string, Set<string | undefined>>();
    const own = (term: string, kit: string | undefined) => {
      const of = owners.get(term);
      if (of === undefined) owners.set(term, new Set([kit]));
      else of.add(kit);
    };
    for (const t of tools.values()) for (const term of t.terms) own(term, t.toolkit);
    for (const [name, kit] of toolkits) for (const term of kit.names) own(term, name);
    for (const [name, kit] of toolkits)
      for (const term of kit.names) if ((owners.get(term) as Set<string | undefined>).size === 1) toolkitOwnNames.set(term, name);
  }
  return {
    version: deriveId("pol", [JSON.stringify(effective)]).slice(0, 16),
    source: text === undefined ? "default" : source,
    tools,
    toolkits,
    toolkitsByTool: scoring.toolkits.byTool,
    toolkitsGoalValueRead: scoring.toolkits.goalValueRead,
    toolkitOwnNames,
    separationOfDuties: effective.separationOfDuties ?? [],
    sequences: (effective.sequences ?? []).map((s) => ({ ...s, first: asList(s.first), then: asList(s.then) })),
    rules,
    thresholds: effective.thresholds,
    halfLifeSeconds: scoring.halfLifeSeconds,
    weights: scoring.weights,
    baseline: scoring.baseline,
    ...(scoring.workingHours ? { workingHours: scoring.workingHours } : {}),
    maxGrantTtlSeconds: scoring.grants.maxTtlSeconds,
    feedback: scoring.review.feedback,
    judgeAskFrom: scoring.judge.askFrom,
    outputs: scoring.outputs,
    factors: scoring.factors,
    burst: scoring.burst,
    ladder: { enabled: scoring.ladder.enabled, declineNeedsFinding: scoring.ladder.declineNeedsFinding, strong: new Set(scoring.ladder.strong) },
    catalog: scoring.catalog,
    lexicon,
    ...(effective.authenticity
      ? { authenticity: { require: effective.authenticity.require, producers: effective.authenticity.producers, types: new Set(effective.authenticity.types) } }
      : {}),
    ...(effective.grants
      ? { grantRules: { never: effective.grants.never, review: effective.grants.review, maxTtlSeconds: Object.entries(effective.grants.maxTtlSeconds) } }
      : {}),
    mcp: effective.mcp ?? MCP_DEFAULTS,
  };
}
