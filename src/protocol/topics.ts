/** Topic names of the wire contract (docs/architecture.md). */
export const TOPICS = {
  events: "vigil.events",
  commands: "vigil.commands",
  sessionStatus: "vigil.session-status",
  audit: "vigil.audit",
  dlq: "vigil.events.dlq",
  acks: "vigil.acks",
  reviews: "vigil.reviews",
} as const;
