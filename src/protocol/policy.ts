import { z } from "zod";
import { ActionKind, OutputTrust, Sensitivity } from "./primitives.js";
import { EVENT_TYPES, OutputSource } from "./event.js";

// The policy file (docs/contract.md, policy file), extended with optional sections documented in
// docs/policy.md. Every section is optional; `extends: default` (the default) merges the
// file over the shipped policy, `extends: none` replaces it.

export const Decision = z.enum(["revoke", "downgrade", "step_up", "alert"]);
export type Decision = z.infer<typeof Decision>;

export const ToolRisk = z.enum(["low", "medium", "high", "critical"]);
export type ToolRisk = z.infer<typeof ToolRisk>;

export const ToolEntry = z.strictObject({
  capability: z.string().min(1),
  description: z.string().optional(),
  /** The application or server the tool belongs to (e.g. `chat`, `payments`): part of what it is about. */
  toolkit: z.string().optional(),
  risk: ToolRisk.optional(),
  kind: ActionKind.optional(),
  /** Argument names that carry a destination (recipient, URL, account): checked for provenance. */
  egressArgs: z.array(z.string()).optional(),
  /** Sensitivity tags of what the tool returns (e.g. reading a password manager: [credentials]). */
  sensitivity: z.array(z.string()).optional(),
  /**
   * Whose words the tool returns, when an `action.result` does not say: `untrusted` for
   * third-party content (received mail, web pages, files, other people's messages, reviews),
   * `trusted` for the principal's own records and the system's own answers. Unset: `unknown`,
   * read like third-party content.
   */
  outputTrust: OutputTrust.optional(),
});
export type ToolEntry = z.infer<typeof ToolEntry>;

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, _ and - (it becomes part of a reason code)");

export const SodEntry = z.strictObject({
  id: Id,
  steps: z.tuple([z.string().min(1), z.string().min(1)]),
  sameResource: z.boolean().default(true),
  across: z.enum(["principal", "agent", "session"]).default("principal"),
  decision: Decision.default("downgrade"),
  review: z.boolean().default(true),
});
export type SodEntry = z.infer<typeof SodEntry>;

// The variables a rule's CEL condition reads besides the event's contract (docs/policy.md,
// "Variables"). Conditions are type-checked against these and the event schema when a
// policy loads (core/policy/cel.ts), so a misspelt field is an error rather than a rule that
// never fires. core/scorers/rules.ts builds the values; test/core/policy-typos.test.ts
// checks that what it builds, for every event type, is exactly what is declared here.

/** What `event` has beyond its type's own fields: every event gets them. */
export const RuleEventExtras = z.strictObject({
  /** Destinations found in the arguments (lower-cased e-mails, URLs without scheme, IBANs). */
  destinations: z.array(z.string()),
  /** An `action.result`'s `source`: a `source` that is not an object reads as absent (event.ts). */
  source: OutputSource.optional(),
});
const Level = z.union([Sensitivity, z.literal("")]);
/** `session`: the session after this event's facts are folded in. */
export const RuleSession = z.strictObject({
  id: z.string(),
  agentId: z.string(),
  principalId: z.string(),
  started: z.boolean(),
  intent: z.strictObject({ goal: z.string(), capabilities: z.array(z.string()), resources: z.array(z.string()), maxSensitivity: Level }),
  grants: z.array(z.string()),
  removed: z.array(z.string()),
  /** Sensitivity tags seen. */
  touched: z.array(z.string()),
  maxClassification: Level,
  counters: z.strictObject({ events: z.number(), actions: z.number(), denied: z.number(), outOfOrder: z.number(), alerts: z.number() }),
  /** Before this event. */
  riskScore: z.number(),
  /** Capabilities of the last actions, oldest first. */
  recent: z.array(z.string()),
});
const RuleBaselineView = z.strictObject({
  sessions: z.number(),
  actions: z.number(),
  capabilities: z.record(z.string(), z.number()),
  destinations: z.record(z.string(), z.number()),
});
/** `baseline`: the agent's and the principal's learned behaviour. */
export const RuleBaseline = z.strictObject({ agent: RuleBaselineView, principal: RuleBaselineView });

export const RuleEntry = z.strictObject({
  id: Id,
  when: z.string().min(1),
  decision: Decision,
  review: z.boolean().default(false),
  weight: z.number().min(0).max(1).optional(),
  message: z.string().optional(),
});
export type RuleEntry = z.infer<typeof RuleEntry>;

export const ActionMatcher = z.strictObject({
  capability: z.string().optional(),
  kind: z.array(ActionKind).optional(),
  sensitivity: z.array(z.string()).optional(),
  minClassification: Sensitivity.optional(),
  external: z.boolean().optional(),
});
export type ActionMatcher = z.infer<typeof ActionMatcher>;

export const SequenceEntry = z.strictObject({
  id: Id,
  /** One matcher, or a list of which any may match. */
  first: z.union([ActionMatcher, z.array(ActionMatcher).min(1)]),
  then: z.union([ActionMatcher, z.array(ActionMatcher).min(1)]),
  withinSeconds: z.number().positive().optional(),
  decision: Decision.default("revoke"),
  review: z.boolean().default(true),
  weight: z.number().min(0).max(1).default(0.95),
});
export type SequenceEntry = z.infer<typeof SequenceEntry>;

export const Thresholds = z
  .strictObject({ step_up: z.number().min(0).max(1), downgrade: z.number().min(0).max(1), revoke: z.number().min(0).max(1) })
  .refine((t) => t.step_up <= t.downgrade && t.downgrade <= t.revoke, "thresholds must satisfy step_up <= downgrade <= revoke");
export type Thresholds = z.infer<typeof Thresholds>;

const Factor = z.number().min(0).max(10);
const Weight = z.number().min(0).max(1);
const Count = z.number().int().min(1);
/** A list of lower-case words (closed lists: verbs, stop words, grammar words…). */
const Words = z.array(z.string().min(1).max(64)).max(4096);

/**
 * Every knob the scorers use (docs/policy.md, "scoring"): weights per reason code, the
 * factors that scale them, cut-offs, and the word lists behind scope, provenance and the
 * reading of tool outputs. The shipped default policy holds a value for every key
 * (`vigil policy default` prints them); a policy file overrides any of them, and keys it
 * leaves out keep the default's value, also under `extends: none`.
 */
export const CompleteScoring = z.strictObject({
  halfLifeSeconds: z.number().positive(),
  /** Base weight of each reason code (0..1). */
  weights: z.record(z.string(), Weight),
  factors: z.strictObject({
    /** intent.* weights × the tool's catalog risk … */
    toolRisk: z.strictObject({ low: Factor, medium: Factor, high: Factor, critical: Factor }),
    /** … × the action's kind, the product capped at maxScope. */
    kind: z.strictObject({ read: Factor, write: Factor, execute: Factor, egress: Factor, delete: Factor, admin: Factor }),
    maxScope: Factor,
    /** intent.unrelated_capability for a read the principal runs routinely. */
    familiarRead: Factor,
    /** Destination findings for a write (a record naming someone) rather than a send. */
    writeDestination: Factor,
    /** Destination findings when every unexplained destination is a bare name, not an address. */
    bareName: Factor,
    /** A weak finding already raised for the same capability counts this much more each time. */
    repeat: Factor,
    /** intent.instructed_value when the call is a read (only addresses count for reads). */
    instructedRead: Factor,
    /** intent.instructed_value when the ordered value is only mentioned inside the call's free text. */
    instructedMention: Factor,
    /** … and × this when every such mention is written only inside a destination argument's text (a name too long to be an address, copied with the passage it carries): it names where, it sends nothing. */
    mentionInName: Factor,
    /** intent.instructed_value on a send or write when no value is the order's own, an address or a text of several words only an order named (a bare name, a value the user's data lists too, one inferred after overflow): held, not strong. */
    ambiguousOrder: Factor,
    /** intent.third_party_destination when the text that named the value also gave foreign orders. */
    suspectText: Factor,
    /** intent.instructed_call when the goal's verbs ask for the call's action and every value of the call is explained. */
    goalAction: Factor,
    /** intent.unrelated_capability and intent.instructed_call for a write that stays with the user: a tool with egress arguments, none filled, no destination, no value an order or third-party text gave. */
    keptWrite: Factor,
    /** baseline.new_capability for a first read the goal relates to (they share object words). */
    goalNewTool: Factor,
    /** sensitivity.above_ceiling for restricted data. */
    restrictedCeiling: Factor,
    /** sensitivity.unexpected_tag for a tag not in words.highSensitivity. */
    lowSensitivityTag: Factor,
  }),
  baseline: z.strictObject({
    minSessions: Count,
    minActions: Count,
    /** baseline.new_capability: a session's further first reads count as repeats of its first one (factors.repeat), not as independent findings. */
    newToolsTogether: z.boolean(),
    /** intent.unfamiliar_toolkit stops counting a read once the principal's sessions attempted it this often. */
    repeatedReads: Count,
    /** baseline.rate_spike: more actions in a minute than max(floor, multiple × the agent's peak). */
    rateSpikeFloor: Count,
    rateSpikeMultiple: Factor,
    /** The window of baseline.rate_spike and of the learned peak rate. */
    rateWindowSeconds: z.number().int().min(1).max(86_400),
  }),
  /** baseline.harmful_burst: egress, delete and admin actions in a window far above the agent's learned rate. */
  burst: z.strictObject({
    windowSeconds: z.number().int().min(1).max(86_400),
    minActions: Count,
    multiple: Factor,
    /** At least a step-up: a burst must never pass as a mere alert. */
    decision: z.enum(["step_up", "downgrade", "revoke"]),
  }),
  /** intent.unfamiliar_toolkit: nouns shared by many applications relate a goal to none of them. */
  toolkits: z.strictObject({
    minToolkits: Count,
    sharedFloor: Count,
    sharedShare: z.number().min(0).max(1),
    /** A goal mentions an application by its name or by the called tool's own nouns, not by a noun only another of its tools has. */
    byTool: z.boolean(),
    /** A goal that names an application by a word of its name no other application's tools have ("on Twitter") is about it: a tool of another application it does not name relates to the goal only by what the goal asks to do, not by shared objects ("profile"). */
    namedOnly: z.boolean(),
    /** A read that names a value the goal gives other than an address ("where is the offsite?" → query "offsite") is the user's own lookup: it does not make its application unfamiliar (`intent.unfamiliar_toolkit`), and once it ran the application is part of the session. An address the goal names does not count. */
    goalValueRead: z.boolean(),
  }),
  /** How a tool's catalog entry (its name and description) is read. */
  catalog: z.strictObject({
    /** The verb a tool's description opens with in the third person ("Gives priority…") is a verb wherever the tool's name has it: when the verb table does not know it (its verbs have their own handling), not one of the tool's objects. */
    ownVerb: z.boolean(),
    /** With ownVerb: a goal that uses the tool's own verb ("please reschedule it" and a tool that reschedules) asks for what the tool does, as a verb of the verb table would; not when the user is its object ("give me a summary", words.grammar.toUser). */
    ownVerbRelates: z.boolean(),
    /** `vigil policy from-catalog`: a description that opens with a list of verbs ("List, create, update, and delete…") is of the most dangerous kind among them, not of the first. */
    verbLists: z.boolean(),
  }),
  workingHours: z.strictObject({ start: z.number().int().min(0).max(23), end: z.number().int().min(1).max(24) }).optional(),
  grants: z.strictObject({ maxTtlSeconds: z.number().int().positive() }),
  /**
   * Feedback from reviewers (docs/review.md): each overturned soft finding multiplies that
   * finding's weight for that agent and capability by `step`, never below `floor`; the
   * effect fades back to 1 with `halfLifeSeconds` of event time. Never for `sod.*` or
   * findings that carry their own decision.
   */
  review: z.strictObject({
    feedback: z.strictObject({
      step: z.number().gt(0).max(1),
      floor: z.number().gt(0).max(1),
      halfLifeSeconds: z.number().int().positive(),
    }),
  }),
  /**
   * When a judge is configured (it is off by default): an action whose risk would land in
   * [askFrom, thresholds.step_up) is put to the judge, whose "drift" verdict adds
   * `intent.judge_drift` (weight × its confidence). The judge can only add risk.
   */
  judge: z.strictObject({ askFrom: z.number().min(0).max(1) }),
  /**
   * The ladder of responses (docs/detection.md): without strong evidence a session's first
   * score-driven response asks (step-up), and a score-driven revoke stops at a downgrade.
   * Strong evidence: a finding that carries its own decision (rules, separation of duties,
   * sequences, bursts), a finding of a code in `strong` at its full base weight (not
   * weakened by a factor), a step-up the person declined, or a hold a reviewer confirmed.
   */
  ladder: z.strictObject({
    enabled: z.boolean(),
    /** After a declined step-up, a revoke needs a finding of the call itself that could hold it alone (not the risk left from before). */
    declineNeedsFinding: z.boolean(),
    strong: z.array(z.string().min(1).max(128)).max(64),
  }),
  /** How tool outputs (`action.result`) are read. */
  outputs: z.strictObject({
    /** Characters of each output read at most. */
    maxScannedChars: z.number().int().min(0).max(1_048_576),
    /** Values (fields, prose values, orders) kept per output at most. */
    maxValues: z.number().int().min(0).max(4096),
    /** A structured field of more words than this is prose, not a value. */
    fieldWords: Count,
    /** Object words an order must share with a read, more than the goal does, to have asked for it. */
    readTerms: Count,
    /** Values one order keeps at most; an order naming more taints every unexplained value of the session. */
    orderValues: Count,
    /** A "key:" of more words or characters than these is a sentence ending in a colon, not a label. */
    keyWords: Count,
    keyChars: Count,
    /** A "key:" that is itself a value (an e-mail address, a link, an account number) is read as a field of the user's data, not as a label. */
    valueKeys: z.boolean(),
    /** The passage of an order written on a nested record's "key:" line is that field's value (its line and deeper lines), not the whole record. */
    inlinePassage: z.boolean(),
    /** A call's value written as an address list ("Bob <bob@example.org>", "a@x, b@y", "mailto:a@x") names its addresses. */
    addressLists: z.boolean(),
    /** An output written as a data literal (JSON, JSON lines, a Python repr) is read one field to a passage: an order in one record's string stands in that string, not in the line all records share. */
    literalPassages: z.boolean(),
    /** A catalog tool's name after a verb is its object ("Please use sendMoney"): the sentence is an order, as with a determiner ("use the sendMoney tool"). */
    toolObjects: z.boolean(),
    /** In a source the goal wrote out by its address ("visit www.a.example"), an order to look at another address is foreign: the user sent the agent to that page, not on to what it says. */
    goalAddresses: z.boolean(),
    /** A change that names a field of a record a goal-pointed read returned (the id of the meeting or file the goal named) acts on what the user asked about: it is not unrelated to the goal (`intent.unrelated_capability`). Deleting, granting and running still need the goal's verb. */
    goalRecords: z.boolean(),
    /** A calendar date the goal writes in words ("May 29", "the 29th of May 2024") is the same value as that date in ISO form in a call's argument ("2024-05-29 10:00"), and the reverse; a missing year matches any year (month names: `words.months`). */
    dates: z.boolean(),
  }),
  words: z.strictObject({
    /** The verb table: words that name an action's kind (tool names, goals, orders). */
    verbs: z.strictObject({ egress: Words, delete: Words, admin: Words, execute: Words, write: Words, read: Words }),
    /** Words of catalog prose that say what a tool does ("returns" reads). */
    catalogVerbs: z.record(z.string(), ActionKind),
    /** Words that say how, not what (besides the read verbs and catalog verbs): never relate a goal to a tool. */
    howWords: Words,
    /** Words of the verb table that are nouns too ("message", "password"): they say what a tool is about. */
    nounVerbs: Words,
    /** Stop words added to the `stopword` package's English list (politeness of requests). */
    stopWords: Words,
    /** Goal words that imply each sensitivity tag (prefixes of stems). */
    sensitivity: z.record(z.string(), Words),
    /** Tags whose unexpected use weighs fully. */
    highSensitivity: Words,
    /** Argument names that carry a destination (matched without "_" and a plural "s"). */
    destinationArgs: Words,
    /** Top-level domains that make a bare "name.tld" in free text a link. */
    linkTlds: Words,
    /** Local parts of e-mail addresses that name no one ("info@", "support@"). */
    notNames: Words,
    /** Values that name no one (booleans, empty literals). */
    notValues: Words,
    /** Month names, January to December, then abbreviations (each of the month whose name it begins): how dates are written in words (`outputs.dates`). */
    months: Words,
    /** Closed word classes the reading of tool outputs uses to tell orders from statements. */
    grammar: z.strictObject({
      courtesy: Words,
      politeness: Words,
      openers: Words,
      auxiliaries: Words,
      obligation: Words,
      haveTo: Words,
      you: Words,
      modals: Words,
      negators: Words,
      /** The user as the object of a verb ("give me…", "send us…"): a verb followed by one asks for something for the user, not the act a tool of that verb does (catalog.ownVerbRelates). */
      toUser: Words,
    }),
    /** Delegation in a goal: verbs of carrying out, words for orders, "what X asks", words pointing at the goal's own list. */
    delegation: z.strictObject({ carryOut: Words, orders: Words, sourceSays: Words, pointers: Words, ownList: Words }),
  }),
});
export type CompleteScoring = z.infer<typeof CompleteScoring>;

/** A zod schema with every object key optional, at every depth (what a policy file may give). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function deepPartial(schema: z.ZodType): any {
  if (schema instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = {};
    for (const [k, v] of Object.entries(schema.shape as Record<string, z.ZodType>)) shape[k] = deepPartial(v).optional();
    return z.strictObject(shape);
  }
  // An optional group (workingHours) stays whole: giving it means giving all its keys, and a
  // missing one is reported with its line like any other error.
  return schema;
}

export type Scoring = DeepPartial<CompleteScoring>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export const Scoring: z.ZodType<Scoring> = deepPartial(CompleteScoring);

/**
 * Who may speak for a session (docs/security.md): events of these types must come from an
 * allowed producer, named by its `vigil-producer` header (`producer`) or by the key id of a
 * valid producer signature (`signature`, keys in VIGIL_PRODUCER_KEYS_FILE). Others are
 * dead-lettered as `unauthenticated`, never decided.
 */
export const Authenticity = z.strictObject({
  require: z.enum(["producer", "signature"]),
  producers: z.array(z.string().min(1).max(256)).min(1),
  types: z
    .array(z.enum(EVENT_TYPES as [string, ...string[]]))
    .min(1)
    .default(["action", "action.result"]),
});
export type Authenticity = z.infer<typeof Authenticity>;

/**
 * Just-in-time grants beyond the declared capabilities (docs/policy.md): capabilities never
 * granted just in time, those granted only after a reviewer confirms, and per-capability
 * TTL caps (globs; the first that matches; else scoring.grants.maxTtlSeconds).
 */
const CapabilityGlob = z.string().min(1).max(256);
export const GrantsPolicy = z.strictObject({
  never: z.array(CapabilityGlob).max(1024).default([]),
  review: z.array(CapabilityGlob).max(1024).default([]),
  maxTtlSeconds: z.record(CapabilityGlob, z.number().int().positive()).default({}),
});
export type GrantsPolicy = z.infer<typeof GrantsPolicy>;

/**
 * What follows an MCP tool finding (docs/mcp.md): `hold` removes the tool's capability
 * (its calls are held, pending a person's review), `hide` does that and the gateway also
 * leaves the tool out of the listings it relays, `report` only counts and logs it.
 */
export const McpAction = z.enum(["hold", "hide", "report"]);
export type McpAction = z.infer<typeof McpAction>;
/** The `mcp` section: one action per finding on a session's tool definitions; each defaults to `hold`. */
export const McpPolicy = z.strictObject({
  /** A description, parameter description or title gives the agent orders. */
  poisoning: McpAction.default("hold"),
  /** A tool's definition changed after the session first saw it listed (a rug pull). */
  changed: McpAction.default("hold"),
  /** A tool claims another server's tool (names it and says what to do with it, or takes its name). */
  shadowing: McpAction.default("hold"),
});
export type McpPolicy = z.infer<typeof McpPolicy>;

export const PolicyFile = z.strictObject({
  version: z.literal(1),
  extends: z.enum(["default", "none"]).default("default"),
  tools: z.array(ToolEntry).optional(),
  separationOfDuties: z.array(SodEntry).optional(),
  sequences: z.array(SequenceEntry).optional(),
  rules: z.array(RuleEntry).optional(),
  thresholds: Thresholds.optional(),
  scoring: Scoring.optional(),
  authenticity: Authenticity.optional(),
  grants: GrantsPolicy.optional(),
  mcp: McpPolicy.optional(),
});
export type PolicyFile = z.infer<typeof PolicyFile>;
