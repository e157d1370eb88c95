import type { SessionState } from "../core/index.js";
import { remainingOf } from "../core/index.js";

// The latest effective state of a session, as kept on the compacted topic
// vigil.session-status (key = sessionId): enough for a new enforcement point to start.

export interface SessionStatus {
  readonly sessionId: string;
  readonly agentId: string;
  readonly principalId: string;
  readonly status: "active" | "restricted" | "revoked" | "ended";
  readonly revoked: boolean;
  readonly stepUpRequired: boolean;
  readonly removed: readonly string[];
  readonly deniedOn: readonly { capability: string; resourceId: string }[];
  readonly remaining: readonly string[];
  readonly review: { required: boolean; status?: string };
  readonly riskScore: number;
  readonly time: string;
  readonly lastCommandId?: string;
  readonly policyVersion: string;
}

export function sessionStatus(s: SessionState, policyVersion: string, lastCommandId?: string): SessionStatus {
  const e = s.enforcement;
  const restricted = e.stepUpRequired || e.removed.length > 0 || e.deniedOn.length > 0;
  return {
    sessionId: s.sessionId,
    agentId: s.agentId,
    principalId: s.principalId,
    status: e.revoked ? "revoked" : s.ended ? "ended" : restricted ? "restricted" : "active",
    revoked: e.revoked,
    stepUpRequired: e.stepUpRequired,
    removed: e.removed,
    deniedOn: e.deniedOn,
    remaining: remainingOf(s, e.removed),
    review: e.review,
    riskScore: s.risk.score,
    time: s.lastEventTime ?? s.startedAt ?? "",
    ...(lastCommandId ? { lastCommandId } : {}),
    policyVersion,
  };
}
