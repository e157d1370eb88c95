import { z } from "zod";
import { ActionKind, Sensitivity, Timestamp } from "./primitives.js";

// The agent event contract (CONTRACT.md section 1). Unknown fields are stripped, never
// rejected; every field the contract names is typed here and nowhere else.

export const AgentRef = z.object({ id: z.string().min(1), name: z.string().optional(), version: z.string().optional() });
export const PrincipalRef = z.object({ id: z.string().min(1), roles: z.array(z.string()).optional() });

export const DeviceContext = z.object({ id: z.string().optional(), compliant: z.boolean().optional() });
export const EventContext = z.object({
  ip: z.string().optional(),
  geo: z.string().optional(),
  device: DeviceContext.optional(),
  userAgent: z.string().optional(),
  network: z.string().optional(),
});
export type EventContext = z.infer<typeof EventContext>;

export const Intent = z.object({
  goal: z.string(),
  capabilities: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  maxSensitivity: Sensitivity.optional(),
  expiresAt: Timestamp.optional(),
});
export type Intent = z.infer<typeof Intent>;

export const Resource = z.object({
  type: z.string().optional(),
  id: z.string().optional(),
  sensitivity: z.array(z.string()).optional(),
  classification: Sensitivity.optional(),
  owner: z.string().optional(),
  destination: z.string().optional(),
  external: z.boolean().optional(),
});
export type Resource = z.infer<typeof Resource>;

export const Outcome = z.enum(["attempted", "success", "denied", "error"]);

const common = {
  eventId: z.string().min(1),
  sessionId: z.string().min(1),
  time: Timestamp,
  agent: AgentRef,
  principal: PrincipalRef,
  delegation: z.array(z.string()).optional(),
  context: EventContext.optional(),
};

export const SessionStarted = z.object({
  ...common,
  type: z.literal("session.started"),
  intent: Intent,
  grants: z.array(z.string()).optional(),
});

export const ActionEvent = z.object({
  ...common,
  type: z.literal("action"),
  action: z.object({ capability: z.string().min(1), tool: z.string().optional(), kind: ActionKind.optional() }),
  resource: Resource.optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  outcome: Outcome.optional(),
});

export const IntentUpdated = z.object({ ...common, type: z.literal("intent.updated"), intent: Intent });
export const ContextChanged = z.object({ ...common, type: z.literal("context.changed") });
export const GrantRequested = z.object({
  ...common,
  type: z.literal("grant.requested"),
  capability: z.string().min(1),
  resource: Resource.optional(),
  purpose: z.string().optional(),
  ttlSeconds: z.number().int().positive().optional(),
});
export const SessionEnded = z.object({ ...common, type: z.literal("session.ended"), reason: z.string().optional() });

export const AgentEvent = z.discriminatedUnion("type", [
  SessionStarted,
  ActionEvent,
  IntentUpdated,
  ContextChanged,
  GrantRequested,
  SessionEnded,
]);

export type AgentEvent = z.infer<typeof AgentEvent>;
export type SessionStartedEvent = z.infer<typeof SessionStarted>;
export type ActionEventT = z.infer<typeof ActionEvent>;
export type GrantRequestedEvent = z.infer<typeof GrantRequested>;
export type EventType = AgentEvent["type"];
export const EVENT_TYPES: readonly EventType[] = AgentEvent.options.map((o) => o.shape.type.value);
