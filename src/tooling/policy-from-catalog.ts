import { stringify } from "yaml";
import type { ActionKind, OutputTrust, ToolEntry, ToolRisk } from "../protocol/index.js";
import { compilePolicy, words } from "../core/index.js";
import type { CompiledPolicy, Lexicon } from "../core/index.js";

// `vigil policy from-catalog`: turns a tool catalog (a JSON list of tools with names,
// descriptions and parameters, as MCP servers and agent frameworks publish them) into the
// `tools:` section of a policy. Generic by construction: kinds come from the verbs of the
// tool's name and description, egress arguments from parameter names and descriptions,
// risk from the kind, output trust from what a read returns. Review the output; it is a
// starting point, not a verdict.

export interface CatalogTool {
  readonly tool: string;
  readonly description?: string;
  readonly toolkit?: string;
  readonly parameters?: readonly { name: string; type?: string; description?: string }[];
  /** MCP's tool annotations, when the catalog comes from an MCP server (hints, not guarantees). */
  readonly annotations?: McpToolAnnotations;
}

export interface McpToolAnnotations {
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly openWorldHint?: boolean;
  readonly idempotentHint?: boolean;
}

/** A tool as an MCP server's `tools/list` describes it (the fields the catalog step reads). */
export interface McpTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema?: { readonly properties?: Readonly<Record<string, { readonly type?: unknown; readonly description?: unknown }>> };
  readonly annotations?: McpToolAnnotations;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An MCP tool in the catalog step's shape: its input schema's properties become parameters. */
export function toCatalogTool(t: McpTool): CatalogTool {
  const props = isObject(t.inputSchema) && isObject(t.inputSchema.properties) ? t.inputSchema.properties : {};
  const parameters = Object.entries(props).map(([name, p]) => ({
    name,
    ...(isObject(p) && typeof p.type === "string" ? { type: p.type } : {}),
    ...(isObject(p) && typeof p.description === "string" ? { description: p.description } : {}),
  }));
  const a = isObject(t.annotations) ? t.annotations : undefined;
  const hint = (k: keyof McpToolAnnotations) => (typeof a?.[k] === "boolean" ? { [k]: a[k] } : {});
  const annotations = { ...hint("readOnlyHint"), ...hint("destructiveHint"), ...hint("openWorldHint"), ...hint("idempotentHint") };
  return {
    tool: String(t.name),
    ...(typeof t.description === "string" ? { description: t.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** The catalog entry of an MCP tool (what `vigil mcp` classifies each listed tool by). */
export const mcpCatalogEntry = (t: McpTool): ToolEntry => toolEntry(toCatalogTool(t));

const EGRESS_PARAM =
  /(^|_)(to|cc|bcc|recipients?|emails?|address(es)?|urls?|links?|iban|account|destination|dest|target|webhook|endpoint|host|domain|phone|participants?|attendees?|user|channel)($|_)/i;
const EGRESS_DESC = /\b(recipient|e-?mail address|url|iban|account number|destination|phone number|send to|webhook)\b/i;

/** The default policy: the catalog step reads tools with the verb table the scorers use and its scoring.catalog knobs (compiled on first use, not when the CLI loads). */
let defaultPolicy: CompiledPolicy | undefined;
const policy = (): CompiledPolicy => (defaultPolicy ??= compilePolicy());
const lexicon = (): Lexicon => policy().lexicon;

/**
 * The kind of a tool: `read` when MCP's `readOnlyHint` says it changes nothing; else the kind
 * of the first word (of the name, else of the description) that is a known verb; else, from
 * MCP's other hints, `delete` for a destructive tool, `egress` for one that reaches the open
 * world, `write` for one that says it is not read-only.
 */
export function kindOf(t: CatalogTool): ActionKind | undefined {
  const a = t.annotations;
  if (a?.readOnlyHint === true) return "read";
  // scoring.catalog.verbLists: "List, create, update, and delete…" is a delete tool, not a read.
  const lead = (text: string) => (policy().catalog.verbLists ? lexicon().leadingVerbListKind(text) : lexicon().leadingVerbKind(text));
  const verb = lead(t.tool) ?? lead(t.description ?? "");
  if (verb !== undefined || a === undefined) return verb;
  if (a.destructiveHint === true) return "delete";
  if (a.openWorldHint === true && a.readOnlyHint === false) return "egress";
  return a.readOnlyHint === false ? "write" : undefined;
}

const RISK: Record<ActionKind, ToolRisk> = { read: "low", write: "medium", execute: "high", egress: "high", delete: "high", admin: "critical" };

/** Whatever its verb, a tool that changes credentials or permissions is critical ("update_password"). */
const changesCredentials = (t: CatalogTool, kind: ActionKind | undefined): boolean => {
  if (kind === undefined || kind === "read") return false;
  const admin = lexicon().verbTable.find(([k]) => k === "admin")?.[1] ?? [];
  const credential = (w: string) => admin.includes(w);
  return words(t.tool).some((w) => credential(w) || (w.endsWith("s") && credential(w.slice(0, -1))));
};

/**
 * Whose words a read returns, from its name (then its description): content that third
 * parties write (mail, messages, web pages, files and documents, reviews, comments, posts,
 * notes, calendar entries others create) is `untrusted`; a read of the principal's own
 * account records by its name (balance, account number, settings, user information, the
 * current date; not a profile, which may be anyone's) is `trusted`. Anything else is left
 * unset, which Vigil reads like third-party content: only `trusted` changes what Vigil does
 * (trusted output is not searched for orders and vouches for its values), so it is
 * inferred narrowly. Writes are left unset.
 */
const THIRD_PARTY = new Set([
  "email",
  "mail",
  "inbox",
  "message",
  "webpage",
  "website",
  "page",
  "url",
  "file",
  "document",
  "review",
  "comment",
  "post",
  "tweet",
  "note",
  "event",
  "calendar",
  "chat",
  "thread",
  "article",
  "feed",
  "issue",
  "ticket",
  "repository",
]);
const OWN_RECORDS = /(^| )(balance|balances|iban|settings|preferences|user info(rmation)?|account info(rmation)?|current (day|date|time))( |$)/;
const singular = (w: string) => (w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w);
export function outputTrustOf(t: CatalogTool, kind: ActionKind | undefined): OutputTrust | undefined {
  if (kind !== "read") return undefined;
  // What a read of the open world returns (a web page, a search) others wrote.
  if (t.annotations?.openWorldHint === true) return "untrusted";
  const name = words(t.tool).map(singular);
  if (OWN_RECORDS.test(name.join(" "))) return "trusted";
  if (
    name.some((w) => THIRD_PARTY.has(w)) ||
    words(t.description ?? "")
      .map(singular)
      .some((w) => THIRD_PARTY.has(w))
  )
    return "untrusted";
  return undefined;
}

export function toolEntry(t: CatalogTool): ToolEntry {
  const kind = kindOf(t);
  const trust = outputTrustOf(t, kind);
  const egressArgs = (t.parameters ?? []).filter((p) => EGRESS_PARAM.test(p.name) || EGRESS_DESC.test(p.description ?? "")).map((p) => p.name);
  return {
    capability: t.tool,
    ...(t.description ? { description: t.description.trim() } : {}),
    ...(t.toolkit ? { toolkit: words(t.toolkit).join(" ") } : {}),
    ...(kind ? { kind, risk: changesCredentials(t, kind) ? "critical" : RISK[kind] } : {}),
    ...(egressArgs.length > 0 ? { egressArgs } : {}),
    ...(trust ? { outputTrust: trust } : {}),
  };
}

/** A complete policy file (extends the default) whose tool catalog is built from `tools`. */
export function policyFromCatalog(tools: readonly CatalogTool[], source: string): string {
  const seen = new Map<string, ToolEntry>();
  for (const t of tools) if (!seen.has(t.tool)) seen.set(t.tool, toolEntry(t));
  const header = `# Generated by \`vigil policy from-catalog ${source}\`: ${seen.size} tools.\n# Kinds, risks and egress arguments are inferred from names and descriptions; review them.\n`;
  return header + stringify({ version: 1, extends: "default", tools: [...seen.values()] }, { lineWidth: 0 });
}
