import type { CaepEvent, CommandType } from "./command.js";

// OpenID Continuous Access Evaluation Profile 1.0 event types (CAEP spec, section 3).
export const CAEP_EVENT_TYPES = {
  sessionRevoked: "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
  tokenClaimsChange: "https://schemas.openid.net/secevent/caep/event-type/token-claims-change",
  assuranceLevelChange: "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change",
} as const;

export interface CaepInput {
  readonly type: CommandType;
  readonly sessionId: string;
  readonly eventTimestampSeconds: number;
  readonly reason: string;
  readonly remaining?: readonly string[];
}

/** The same decision as a CAEP event: revoke → session-revoked, step_up → assurance-level-change, others → token-claims-change. */
export function toCaep(input: CaepInput): CaepEvent {
  const base = {
    subject: { format: "opaque", id: input.sessionId },
    event_timestamp: input.eventTimestampSeconds,
    reason_admin: { en: input.reason },
    initiating_entity: "policy",
  };
  switch (input.type) {
    case "revoke":
      return { eventType: CAEP_EVENT_TYPES.sessionRevoked, ...base };
    case "step_up":
      return {
        eventType: CAEP_EVENT_TYPES.assuranceLevelChange,
        ...base,
        namespace: "NIST-AAL",
        previous_level: "nist-aal1",
        current_level: "nist-aal2",
        change_direction: "increase",
      };
    case "downgrade":
    case "restore":
    case "grant":
    case "deny_grant":
      return { eventType: CAEP_EVENT_TYPES.tokenClaimsChange, ...base, claims: { capabilities: [...(input.remaining ?? [])] } };
    default: {
      const _exhaustive: never = input.type;
      return _exhaustive;
    }
  }
}
