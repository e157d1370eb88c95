import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compilePolicy } from "../../src/core/index.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import type { Outcome } from "./given-when-then.js";
import { action, actionResult, sessionEnded, sessionStarted } from "./given-when-then.js";

// What the workspace-shaped specs share (test/core/workspace-shaped.test.ts, goal-dates.test.ts):
// the policy generated from the AgentDojo tool catalog (bench/policies/agentdojo.yaml; its
// workspace tools), the user's address, and a principal who has only used mail so far.

export const CATALOG = readFileSync(join(import.meta.dirname, "../../bench/policies/agentdojo.yaml"), "utf8");
export const policy = compilePolicy(CATALOG, "agentdojo.yaml");
/** The catalog policy with a `scoring:` block of its own (knobs switched for one spec). */
export const withScoring = (scoring: string) => compilePolicy(`${CATALOG}scoring:\n${scoring}\n`, "agentdojo.yaml");
/** The call was not let through as it stands: denied, or held for a step-up. */
export const held = (o: Outcome): boolean => o.decision.verdict !== undefined && o.decision.verdict.outcome !== "allow";

export const ME = "me@example.org";

/** Three finished sessions of the principal in the mail application only (the calendar and the drive are new to it). */
export const mailHistory: AgentEvent[] = [0, 1, 2].flatMap((i) => {
  const session = `h${i}`;
  const t = i * 3600;
  const read = action(t + 10, "search_emails", { session, args: { query: `report ${i}` } });
  return [
    sessionStarted(t, { goal: "Find the email with the monthly report" }, { session }),
    read,
    actionResult(t + 11, read, `- id_: '${i}'\n  sender: jo@example.org\n  recipients:\n  - ${ME}\n  subject: Report\n  body: Attached.`, { session }),
    sessionEnded(t + 30, { session }),
  ];
});
