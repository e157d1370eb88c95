import { z } from "zod";
import { ActionKind, OutputTrust, Sensitivity, Timestamp } from "./primitives.js";

// The agent event contract (docs/contract.md, events). Unknown fields are stripped, never
// rejected; every field the contract names is typed here and nowhere else.

// Bounds keep one event from costing unbounded work or producing outputs larger than a
// Kafka request (docs/contract.md). Capabilities are names, never patterns.
const Id = z.string().min(1).max(512);
const Text = z.string().max(16_384);
const Short = z.string().max(1024);
export const CapabilityName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^*?\s]+$/, "a capability name (no spaces, no * or ?)");

export const AgentRef = z.object({ id: Id, name: z.string().optional(), version: z.string().optional() });
export const PrincipalRef = z.object({ id: Id, roles: z.array(Short).max(256).optional() });

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
  goal: Text,
  capabilities: z.array(z.string().min(1).max(256)).max(1024).optional(),
  resources: z.array(Short).max(1024).optional(),
  maxSensitivity: Sensitivity.optional(),
  expiresAt: Timestamp.optional(),
});
export type Intent = z.infer<typeof Intent>;

export const Resource = z.object({
  type: z.string().optional(),
  id: Short.optional(),
  sensitivity: z.array(z.string().max(64)).max(64).optional(),
  classification: Sensitivity.optional(),
  owner: z.string().optional(),
  destination: z.string().optional(),
  external: z.boolean().optional(),
});
export type Resource = z.infer<typeof Resource>;

export const Outcome = z.enum(["attempted", "success", "denied", "error"]);

const common = {
  eventId: Id,
  sessionId: Id,
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
  action: z.object({ capability: CapabilityName, tool: Short.optional(), kind: ActionKind.optional() }),
  resource: Resource.optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  outcome: Outcome.optional(),
});

export const IntentUpdated = z.object({ ...common, type: z.literal("intent.updated"), intent: Intent });
export const ContextChanged = z.object({ ...common, type: z.literal("context.changed") });
export const GrantRequested = z.object({
  ...common,
  type: z.literal("grant.requested"),
  capability: CapabilityName,
  resource: Resource.optional(),
  purpose: z.string().optional(),
  ttlSeconds: z.number().int().positive().optional(),
});
export const SessionEnded = z.object({ ...common, type: z.literal("session.ended"), reason: z.string().optional() });

/** A person's verdict on a review case (contract v1.2): written to `vigil.reviews`, signed, and carried into the session's events by the processor. */
export const ReviewVerdict = z.enum(["confirmed", "overturned"]);
export const ReviewDecided = z.object({
  ...common,
  type: z.literal("review.decided"),
  review: z.object({
    caseId: Id,
    verdict: ReviewVerdict,
    /** With `confirmed`: escalate the hold to a revocation. */
    revoke: z.boolean().optional(),
    reviewer: z.string().min(1).max(256),
    note: z.string().max(2000).optional(),
  }),
});

/**
 * Most characters of `output.text` an `action.result` may carry. Gateways cut longer outputs
 * (and say so with `truncated` and `bytes`); above this the event is refused with its own
 * dead-letter reason (`output_too_large`) rather than stored or scanned.
 */
export const MAX_OUTPUT_TEXT = 65_536;

export const ResultOutcome = z.enum(["success", "error", "denied"]);

export const ToolOutput = z.object({
  text: z.string().max(MAX_OUTPUT_TEXT).optional(),
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  truncated: z.boolean().optional(),
  digest: Short.optional(),
  mediaType: z.string().max(256).optional(),
});
export type ToolOutput = z.infer<typeof ToolOutput>;

/** Where an output came from, when the gateway knows (third-party content is `untrusted`). */
export const OutputSource = z.object({ trust: OutputTrust.optional(), origin: Short.optional() });

/**
 * What a call returned (contract v1.1), sent after the tool ran and before the agent reads
 * it. `source` is optional; a `source` that is not an object (some producers put their own
 * name there) is no trust label and reads as absent.
 */
export const ActionResult = z.object({
  ...common,
  type: z.literal("action.result"),
  actionEventId: Id,
  outcome: ResultOutcome,
  output: ToolOutput,
  source: z
    .union([
      OutputSource,
      z
        .string()
        .max(1024)
        .transform(() => undefined),
    ])
    .optional(),
});

/** Tools one `tools.listed` event carries at most; a gateway splits a longer listing into several events. */
export const MAX_LISTED_TOOLS = 128;
/** Characters of a tool's description at most; gateways cut longer ones (and set `truncated`). */
export const MAX_TOOL_DESCRIPTION = 8_192;
/** Characters of each other text of a tool (a title, a parameter's description) at most. */
export const MAX_TOOL_TEXT = 1_024;
/** Parameter descriptions one tool carries at most. */
export const MAX_TOOL_PARAMETERS = 64;

/**
 * One tool as a gateway saw it listed (contract v1.3): its name (the capability its calls
 * use), the server it came from, a digest of its whole definition (to notice a change), and
 * the texts an agent reads of it, each capped. The texts are attacker-controlled.
 */
export const ListedTool = z.object({
  name: CapabilityName,
  server: z.string().min(1).max(256),
  digest: z.string().min(1).max(1024),
  title: z.string().max(MAX_TOOL_TEXT).optional(),
  description: z.string().max(MAX_TOOL_DESCRIPTION).optional(),
  annotations: z.object({ title: z.string().max(MAX_TOOL_TEXT).optional() }).optional(),
  /** Parameter descriptions, named by their path in the input schema (`entities[].name`). */
  parameters: z
    .array(z.object({ name: z.string().min(1).max(256), description: z.string().max(MAX_TOOL_TEXT) }))
    .max(MAX_TOOL_PARAMETERS)
    .optional(),
  /** Some text of the tool was cut to the caps above (the digest still covers all of it). */
  truncated: z.boolean().optional(),
});
export type ListedTool = z.infer<typeof ListedTool>;

/**
 * A session's tool definitions as a gateway saw them listed (contract v1.3): sent for every
 * listing it relays, before the agent reads it. Vigil reads the texts for orders given to
 * the agent, and compares each tool with what the session was listed before.
 */
export const ToolsListed = z.object({
  ...common,
  type: z.literal("tools.listed"),
  tools: z.array(ListedTool).max(MAX_LISTED_TOOLS),
});

/** What the person answered (contract v1.4), in MCP elicitation's words: `cancel` is a dismissal, no confirmation. */
export const StepUpAnswer = z.enum(["accept", "decline", "cancel"]);

/**
 * A person's answer when a gateway asked them to confirm a call Vigil held for step-up
 * (contract v1.4): `actionEventId` names the held `action`. Sent by the gateway after the
 * person answered, before the call runs (accepted) or is refused.
 */
export const StepUpAnswered = z.object({
  ...common,
  type: z.literal("step_up.answered"),
  actionEventId: Id,
  answer: StepUpAnswer,
  /** How the person was asked (`vigil mcp` sends `mcp-elicitation`). */
  channel: Short.optional(),
});

export const AgentEvent = z.discriminatedUnion("type", [
  SessionStarted,
  ActionEvent,
  ActionResult,
  IntentUpdated,
  ContextChanged,
  GrantRequested,
  SessionEnded,
  ReviewDecided,
  ToolsListed,
  StepUpAnswered,
]);

export type AgentEvent = z.infer<typeof AgentEvent>;
export type SessionStartedEvent = z.infer<typeof SessionStarted>;
export type ActionEventT = z.infer<typeof ActionEvent>;
export type ActionResultEvent = z.infer<typeof ActionResult>;
export type GrantRequestedEvent = z.infer<typeof GrantRequested>;
export type ReviewDecidedEvent = z.infer<typeof ReviewDecided>;
export type ToolsListedEvent = z.infer<typeof ToolsListed>;
export type StepUpAnsweredEvent = z.infer<typeof StepUpAnswered>;
export type EventType = AgentEvent["type"];
export const EVENT_TYPES: readonly EventType[] = AgentEvent.options.map((o) => o.shape.type.value);
