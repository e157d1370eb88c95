import type { ActionKind, OutputTrust } from "../protocol/index.js";

// What an event tells the session beyond its raw fields, as types only: session state keeps
// these and the readers produce them (action-facts.ts for an action, result-facts.ts for a
// tool output, mcp-tools.ts for a tool listing), so they live in a leaf all import.

/** What the engine knows about an action beyond its raw fields (kind and egress inferred from the tool catalog). */
export interface ActionFacts {
  readonly kind?: string;
  readonly tags: readonly string[];
  readonly egress: boolean;
  readonly external: boolean;
  /** Whole argument values the call names (normalised, bounded): what provenance is checked for. */
  readonly values?: readonly string[];
  readonly namesGoalValue?: boolean;
  /** One of those values is an address (a link, an e-mail address, an account the goal wrote out). */
  readonly namesGoalAddress?: boolean;
}

/** An order found in third-party output that the user's goal does not give. */
export interface Instruction {
  /** Object stems of the order (what it is about), bounded. */
  readonly terms: readonly string[];
  readonly kinds: readonly ActionKind[];
  /** Capabilities it names literally. */
  readonly tools: readonly string[];
  /** Values it names (normalised). */
  readonly values: readonly string[];
}

export interface ResultFacts {
  /** The capability of the call this output answers, when the session remembers it. */
  readonly capability?: string;
  readonly trust: OutputTrust;
  /** The user's goal delegates to this source ("do what the email from X asks"): its orders are the user's. */
  readonly delegated: boolean;
  /** The call that returned it names a value the goal names (the file, page, channel or sender the user pointed at): its prose is what the user sent the agent to read. */
  readonly pointed: boolean;
  /** The call that returned it names a value the goal names, whether or not the output also gives orders: its fields (outside an order's passage) are of records the user named (scoring.outputs.goalRecords). */
  readonly lookedUp?: boolean;
  readonly fields: readonly string[];
  /** Fields inside the passage of a foreign order: laid out as a record, vouching for nothing (third-party text). */
  readonly tainted: readonly string[];
  readonly prose: readonly string[];
  readonly instructions: readonly Instruction[];
  /** An order named more values than are kept: the session can no longer tell every ordered value. */
  readonly overflow: boolean;
  /** Values named by orders in this output (those of `instructions`, and those an order in line with the goal picks for a change). */
  readonly instructed?: readonly string[];
  /** For a delegated source: the object stems of its orders, which extend the goal. */
  readonly delegatedTerms?: readonly string[];
}

/** A tool the session saw listed (`tools.listed`), as the session keeps it: name, server and first digest only. */
export interface KnownTool {
  readonly name: string;
  readonly server: string;
  /** The digest of its definition when the session first saw it listed (capped like any kept value). */
  readonly digest: string;
  /** Findings already raised on it (bits of TOOL_FINDING_KINDS' order): each is raised once per tool. */
  readonly flags?: number;
}

export type ToolFindingKind = "poisoning" | "changed" | "shadowing";

/** A finding on one listed tool (mcp-tools.ts). */
export interface ToolFinding {
  readonly kind: ToolFindingKind;
  readonly tool: string;
  readonly server: string;
  readonly message: string;
}

/** What a `tools.listed` tells the session: the tools it knows from now on, and the findings on this listing. */
export interface ListingFacts {
  readonly known: readonly KnownTool[];
  readonly findings: readonly ToolFinding[];
}
