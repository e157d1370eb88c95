import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { Document } from "yaml";
import { compileCondition } from "./cel.js";
import { PolicyFile } from "../../protocol/index.js";
import type { Validated } from "../../protocol/index.js";

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
  const at = (path: (string | number)[], message: string, key?: string) => {
    const pos = lineCounter.linePos(offsetOf(doc, path, key));
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
    // CEL conditions are compiled and type-checked here too, so their errors carry the line.
    for (const [i, rule] of (parsed.data.rules ?? []).entries()) {
      const compiled = compileCondition(rule.when);
      if (!compiled.ok) at(["rules", i, "when"], `rule ${rule.id}: ${compiled.error.split("\n")[0]}`);
    }
  }
  if (parsed.success && problems.length === 0) return { ok: true, value: parsed.data };
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, error: problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`).join("; "), field: problems[0]?.field ?? "", problems };
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
