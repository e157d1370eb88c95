import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { Document } from "yaml";
import { closest, compileCondition } from "./cel.js";
import { PolicyFile } from "../../protocol/index.js";
import type { Validated } from "../../protocol/index.js";
import { WEIGHTED_CODES } from "../reason-codes.js";

// Reads a policy YAML text and validates it, reporting every problem with its line and
// column and the dotted path of the field (docs/policy.md). Pure: the caller reads the file.

export interface PolicyProblem {
  readonly line: number;
  readonly column: number;
  readonly field: string;
  readonly message: string;
}

export class PolicyError extends Error {
  readonly code = "POLICY_INVALID";
  readonly retriable = false;
  constructor(
    readonly source: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    super(`invalid policy ${source}:\n${problems.map((p) => `  ${source}:${p.line}:${p.column} ${p.field ? `${p.field}: ` : ""}${p.message}`).join("\n")}`);
    this.name = "PolicyError";
  }
}

export function parsePolicyText(text: string): Validated<PolicyFile> & { problems?: PolicyProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return { line: pos.line, column: pos.col, field: "", message: e.message.split("\n")[0] ?? e.message };
    });
    return { ok: false, error: problems.map((p) => `${p.line}:${p.column} ${p.message}`).join("; "), field: "", problems };
  }
  const parsed = PolicyFile.safeParse(doc.toJS());
  const problems: PolicyProblem[] = [];
  const at = (path: (string | number)[], message: string, key?: string, offset?: number) => {
    const pos = lineCounter.linePos(offset ?? offsetOf(doc, path, key));
    problems.push({ line: pos.line, column: pos.col, field: path.join("."), message });
  };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((k) => (typeof k === "symbol" ? String(k) : k));
      const unknown = issue.code === "unrecognized_keys" ? issue.keys : undefined;
      at(
        unknown ? [...path, unknown[0] as string] : path,
        unknown ? `unknown key "${unknown.join('", "')}"` : issue.message.replace(/^Invalid input: /, ""),
        unknown?.[0],
      );
    }
  } else {
    // CEL conditions are compiled and type-checked here too, so their errors carry the line
    // (of the offending token, when the checker names one).
    for (const [i, rule] of (parsed.data.rules ?? []).entries()) {
      const compiled = compileCondition(rule.when);
      if (compiled.ok) continue;
      const path = ["rules", i, "when"];
      const offset = compiled.offset === undefined ? undefined : offsetInScalar(text, doc.getIn(path, true), rule.when, compiled.offset);
      at(path, `rule ${rule.id}: ${compiled.error.split("\n")[0]}`, undefined, offset);
    }
    // Reason codes a policy names must be codes Vigil raises: a weight for another weighs
    // nothing (most likely a misspelt code whose own weight silently stays the default), and
    // a misspelt strong code would quietly keep that finding from ever revoking.
    const known: ReadonlySet<string> = new Set(WEIGHTED_CODES);
    const reasonCode = (path: (string | number)[], code: string) => {
      if (known.has(code)) return;
      const near = closest(code, WEIGHTED_CODES);
      at(path, `unknown reason code "${code}"${near ? `; did you mean "${near}"?` : ""}`, code);
    };
    for (const code of Object.keys(parsed.data.scoring?.weights ?? {})) reasonCode(["scoring", "weights", code], code);
    for (const [i, code] of (parsed.data.scoring?.ladder?.strong ?? []).entries()) reasonCode(["scoring", "ladder", "strong", i], code);
  }
  if (parsed.success && problems.length === 0) return { ok: true, value: parsed.data };
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, error: problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`).join("; "), field: problems[0]?.field ?? "", problems };
}

/**
 * The offset in the YAML text of the character at `at` in a scalar's value: the value's
 * non-blank characters are the text's, in order, whatever the folding, so counting them
 * finds it. Undefined when the node is not that scalar or an escape makes the two differ.
 */
function offsetInScalar(text: string, node: unknown, value: string, at: number): number | undefined {
  if (!isScalar(node) || !node.range || at < 0 || at >= value.length) return undefined;
  const [start, end] = node.range;
  let i = start;
  if (node.type === "BLOCK_FOLDED" || node.type === "BLOCK_LITERAL") i = text.indexOf("\n", start) + 1;
  else if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") i++;
  if (i <= 0) return undefined;
  let skip = 0;
  for (let j = 0; j < at; j++) if (!/\s/.test(value[j] as string)) skip++;
  const escapes = node.type === "QUOTE_DOUBLE" ? "\\" : node.type === "QUOTE_SINGLE" ? "'" : undefined;
  for (; i < end; i++) {
    if (/\s/.test(text[i] as string)) continue;
    // `\"` in a double-quoted scalar, `''` in a single-quoted one: one character of the value.
    const escaped = text[i] === escapes && (escapes === "\\" || text[i + 1] === "'");
    if (skip-- > 0) {
      if (escaped) i++;
      continue;
    }
    return text[escaped ? i + 1 : i] === value[at] ? i : undefined;
  }
  return undefined;
}

/** The offset of the deepest node on the path that exists (a missing key is reported at its parent; an unknown key at itself). */
function offsetOf(doc: Document, path: readonly (string | number)[], unknownKey?: string): number {
  if (unknownKey !== undefined) {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === unknownKey);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}
