import { LineCounter, isNode, parseDocument } from "yaml";
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
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map((k) => (typeof k === "symbol" ? String(k) : k));
    // The deepest node that exists: a missing key is reported where its parent stands.
    let offset = 0;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        offset = node.range[0];
        break;
      }
    }
    const keys = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col, field: path.join("."), message: issue.message.replace(/^Invalid input: /, "") + keys };
  });
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, error: problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`).join("; "), field: problems[0]?.field ?? "", problems };
}
