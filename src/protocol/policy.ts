import { z } from "zod";
import { ActionKind, OutputTrust, Sensitivity } from "./primitives.js";

// The policy file (CONTRACT.md section 4), extended with optional sections documented in
// docs/policy.md. Every section is optional; `extends: default` (the default) merges the
// file over the shipped policy, `extends: none` replaces it.

export const Decision = z.enum(["revoke", "downgrade", "step_up", "alert"]);
export type Decision = z.infer<typeof Decision>;

export const ToolRisk = z.enum(["low", "medium", "high", "critical"]);
export type ToolRisk = z.infer<typeof ToolRisk>;

export const ToolEntry = z.strictObject({
  capability: z.string().min(1),
  description: z.string().optional(),
  /** The application or server the tool belongs to (e.g. `slack`, `banking`): part of what it is about. */
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

export const Scoring = z.strictObject({
  halfLifeSeconds: z.number().positive().optional(),
  weights: z.record(z.string(), z.number().min(0).max(1)).optional(),
  baseline: z
    .strictObject({ minSessions: z.number().int().min(1).optional(), minActions: z.number().int().min(1).optional() })
    .optional(),
  workingHours: z.strictObject({ start: z.number().int().min(0).max(23), end: z.number().int().min(1).max(24) }).optional(),
  grants: z.strictObject({ maxTtlSeconds: z.number().int().positive().optional() }).optional(),
  /**
   * When a judge is configured (it is off by default): an action whose risk would land in
   * [askFrom, thresholds.step_up) is put to the judge, whose "drift" verdict adds
   * `intent.judge_drift` (weight × its confidence). The judge can only add risk.
   */
  judge: z.strictObject({ askFrom: z.number().min(0).max(1).optional() }).optional(),
  /** How tool outputs (`action.result`) are read: characters scanned per output, values kept per output. */
  outputs: z
    .strictObject({ maxScannedChars: z.number().int().min(0).max(1_048_576).optional(), maxValues: z.number().int().min(0).max(4096).optional() })
    .optional(),
});
export type Scoring = z.infer<typeof Scoring>;

export const PolicyFile = z.strictObject({
  version: z.literal(1),
  extends: z.enum(["default", "none"]).default("default"),
  tools: z.array(ToolEntry).optional(),
  separationOfDuties: z.array(SodEntry).optional(),
  sequences: z.array(SequenceEntry).optional(),
  rules: z.array(RuleEntry).optional(),
  thresholds: Thresholds.optional(),
  scoring: Scoring.optional(),
});
export type PolicyFile = z.infer<typeof PolicyFile>;
