import { TOOL_FINDING_CODES } from "../reason-codes.js";
import type { ScoreInput, Signal } from "./scorer.js";

// MCP tool findings (mcp-tools.ts) as signals, the policy's `mcp` section deciding what
// follows each: `hold` and `hide` take the tool's capability away (a downgrade, pending a
// person's review; the gateway also leaves a `hide` tool out of its listings), `report`
// only records it (audit, metric, log). None weighs on the session's risk: a finding on a
// tool's definition says what the server did, not what the agent did.

export function toolScorer(input: ScoreInput): Signal[] {
  const findings = input.listing?.findings ?? [];
  return findings.map((f): Signal => {
    const code = TOOL_FINDING_CODES[f.kind];
    const action = input.policy.mcp[f.kind];
    const facts = { values: [f.server] };
    if (action === "report") return { code, message: f.message, weight: 0, capability: f.tool, facts };
    return { code, message: f.message, weight: 0, decision: "downgrade", review: true, capability: f.tool, facts };
  });
}
