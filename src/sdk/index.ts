export { createPublisher, jsonEncoder, avroEncoder, InvalidEventError, validateForPublish, toolOutput, MAX_OUTPUT_TEXT } from "./publisher.js";
export type { Publisher, PublisherOptions, EventInput, EventEncoder, SchemaRegistryLike, ToolOutput, ToolOutputOptions } from "./publisher.js";
export { createEnforcer, applyCommand } from "./enforcer.js";
export type { Enforcer, EnforcerOptions, SessionView } from "./enforcer.js";
export type { SessionStatus, Command } from "../protocol/index.js";
