import type { SessionState } from "../core/index.js";
import { remainingOf } from "../core/index.js";
import type { SessionStatus } from "../protocol/index.js";

export type { SessionStatus };

// Builds the session-status record (src/protocol/session-status.ts) from a session.

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
    removed: [...e.removed],
    deniedOn: e.deniedOn.map((d) => ({ ...d })),
    remaining: remainingOf(s, e.removed),
    review: e.review,
    riskScore: s.risk.score,
    time: s.lastEventTime ?? s.startedAt ?? "",
    ...(lastCommandId ? { lastCommandId } : {}),
    policyVersion,
    goal: s.intent !== undefined && s.intent.goal.trim() !== "" ? "declared" : "none",
  };
}
