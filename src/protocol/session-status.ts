import { z } from "zod";
import { Timestamp } from "./primitives.js";

// The latest effective state of a session, as kept on the compacted topic
// vigil.session-status (key = sessionId): enough for a new enforcement point to start.

export const SessionStatus = z.object({
  sessionId: z.string().min(1),
  agentId: z.string().min(1),
  principalId: z.string().min(1),
  status: z.enum(["active", "restricted", "revoked", "ended"]),
  revoked: z.boolean(),
  stepUpRequired: z.boolean(),
  removed: z.array(z.string()),
  deniedOn: z.array(z.object({ capability: z.string(), resourceId: z.string() })),
  remaining: z.array(z.string()),
  review: z.object({ required: z.boolean(), status: z.enum(["pending", "confirmed", "overturned"]).optional() }),
  riskScore: z.number().min(0).max(1),
  time: Timestamp,
  lastCommandId: z.string().optional(),
  policyVersion: z.string(),
  /**
   * Whether the session declared a goal (v1.4): `none` means Vigil decides on baselines,
   * policy and provenance alone (a gateway that was given no goal). Absent in records
   * written before v1.4.
   */
  goal: z.enum(["declared", "none"]).optional(),
});
export type SessionStatus = z.infer<typeof SessionStatus>;
