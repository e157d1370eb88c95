export { Timestamp, Sensitivity, ActionKind, OutputTrust, SENSITIVITY_ORDER, sensitivityRank } from "./primitives.js";
export {
  AgentEvent,
  SessionStarted,
  ActionEvent,
  ActionResult,
  ToolOutput,
  OutputSource,
  ResultOutcome,
  MAX_OUTPUT_TEXT,
  IntentUpdated,
  ContextChanged,
  GrantRequested,
  SessionEnded,
  ReviewDecided,
  ReviewVerdict,
  ToolsListed,
  ListedTool,
  MAX_LISTED_TOOLS,
  MAX_TOOL_DESCRIPTION,
  MAX_TOOL_TEXT,
  MAX_TOOL_PARAMETERS,
  StepUpAnswered,
  StepUpAnswer,
  Intent,
  Resource,
  EventContext,
  EVENT_TYPES,
} from "./event.js";
export type {
  SessionStartedEvent,
  ActionEventT,
  ActionResultEvent,
  GrantRequestedEvent,
  ReviewDecidedEvent,
  ToolsListedEvent,
  StepUpAnsweredEvent,
  EventType,
} from "./event.js";
export { DLQ_REASONS } from "./dlq.js";
export type { DlqReason } from "./dlq.js";
export { Command, CommandType, COMMAND_TYPES, MAX_EXPLANATION, Reason, ReasonCode, REASON_FAMILIES, CaepEvent } from "./command.js";
export type { ReasonFamily } from "./command.js";
export { toCaep, CAEP_EVENT_TYPES } from "./caep.js";
export {
  PolicyFile,
  ToolEntry,
  SodEntry,
  RuleEntry,
  SequenceEntry,
  ActionMatcher,
  Thresholds,
  Scoring,
  CompleteScoring,
  Decision,
  ToolRisk,
  McpAction,
  McpPolicy,
} from "./policy.js";
export { TOPICS } from "./topics.js";
export { validateEvent, formatIssues } from "./validate.js";
export { nestsDeeperThan } from "./json-depth.js";
export type { Validated, ValidatedEvent, EventRejection } from "./validate.js";
export { check, initialEnforcement, isRestricted } from "./enforcement.js";
export type { Enforcement, Verdict } from "./enforcement.js";
export { globMatch, anyGlob } from "./glob.js";
export { SessionStatus } from "./session-status.js";
export { AVRO_SCHEMAS } from "./avro-schemas.js";
export type { AvroSchemaName } from "./avro-schemas.js";
