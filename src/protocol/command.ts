import { z } from "zod";
import { Timestamp } from "./primitives.js";

// The command contract (docs/contract.md, commands): one command per enforcement decision.

export const COMMAND_TYPES = ["revoke", "downgrade", "step_up", "restore", "grant", "deny_grant"] as const;
export const CommandType = z.enum(COMMAND_TYPES);
export type CommandType = z.infer<typeof CommandType>;

export const REASON_FAMILIES = ["intent", "baseline", "sequence", "sensitivity", "context", "sod", "rule", "grant", "review"] as const;
export type ReasonFamily = (typeof REASON_FAMILIES)[number];

export const ReasonCode = z
  .string()
  .regex(new RegExp(`^(${REASON_FAMILIES.join("|")})(\\.[a-z0-9_-]+)+$`), "a dotted code whose first segment is a reason family");

export const Reason = z.object({ code: ReasonCode, message: z.string(), weight: z.number().min(0).max(1).optional() });
export type Reason = z.infer<typeof Reason>;

export const CaepEvent = z.object({
  eventType: z.string(),
  subject: z.object({ format: z.string(), id: z.string() }).catchall(z.unknown()),
  event_timestamp: z.number().int(),
  reason_admin: z.object({ en: z.string() }),
  initiating_entity: z.string().optional(),
  namespace: z.string().optional(),
  change_direction: z.enum(["increase", "decrease"]).optional(),
  previous_level: z.string().optional(),
  current_level: z.string().optional(),
  claims: z.record(z.string(), z.unknown()).optional(),
});
export type CaepEvent = z.infer<typeof CaepEvent>;

/** Characters of a command's `explanation` (v1.5). */
export const MAX_EXPLANATION = 1024;

export const Command = z.object({
  commandId: z.string().min(1),
  type: CommandType,
  sessionId: z.string().min(1),
  agentId: z.string().min(1),
  principalId: z.string().min(1),
  time: Timestamp,
  causedBy: z.array(z.string()).min(1),
  riskScore: z.number().min(0).max(1),
  reasons: z.array(Reason).min(1),
  capabilities: z.object({ removed: z.array(z.string()), remaining: z.array(z.string()) }).optional(),
  expiresAt: Timestamp.optional(),
  /** `grant` only (v1.2): the capability granted just in time, and the resource it is for, when the session did not hold it already; enforcement points deny it after `expiresAt`. */
  grant: z.object({ capability: z.string().min(1), resourceId: z.string().optional() }).optional(),
  review: z.object({ required: z.boolean(), status: z.enum(["pending", "confirmed", "overturned"]).optional() }),
  caep: CaepEvent,
  /**
   * v1.5: why, in one sentence a person can act on (what the agent tried, what the goal
   * asked, where a value came from, which earlier event it conflicts with). For people:
   * enforcement points show it, and decide on `type`, `capabilities` and `reasons`.
   */
  explanation: z.string().max(MAX_EXPLANATION).optional(),
});
export type Command = z.infer<typeof Command>;
