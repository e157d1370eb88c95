import { anyGlob } from "./glob.js";

// The effective enforcement state of a session: what an enforcement point needs to answer
// "may this session use this capability on this resource now?". The processor keeps it,
// the session-status topic carries it, and the enforcement SDK runs the same check().

export interface Enforcement {
  readonly revoked: boolean;
  readonly stepUpRequired: boolean;
  /** Capabilities (glob patterns) taken away from the session. */
  readonly removed: readonly string[];
  /** Capability denied on one resource only (separation of duties). */
  readonly deniedOn: readonly { capability: string; resourceId: string }[];
  readonly review: { required: boolean; status?: "pending" | "confirmed" | "overturned" };
}

export const initialEnforcement: Enforcement = { revoked: false, stepUpRequired: false, removed: [], deniedOn: [], review: { required: false } };

export type Verdict = { outcome: "allow" } | { outcome: "deny" | "step_up"; reason: string };

export function check(e: Enforcement, capability: string, resourceId?: string): Verdict {
  if (e.revoked) return { outcome: "deny", reason: "session revoked" };
  if (anyGlob(e.removed, capability)) return { outcome: "deny", reason: `capability ${capability} removed` };
  if (resourceId !== undefined && e.deniedOn.some((d) => d.resourceId === resourceId && d.capability === capability)) {
    return { outcome: "deny", reason: `capability ${capability} denied on ${resourceId}` };
  }
  if (e.stepUpRequired) return { outcome: "step_up", reason: "step-up authentication required" };
  return { outcome: "allow" };
}

export const isRestricted = (e: Enforcement): boolean => e.revoked || e.stepUpRequired || e.removed.length > 0 || e.deniedOn.length > 0;
