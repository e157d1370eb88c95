import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shadowRun } from "../../src/app/shadow.js";
import { decodeLine } from "../../src/app/line-decoder.js";
import { compilePolicy } from "../../src/core/index.js";

// Shadowing a policy change on the shipped scenarios: the same events through the default
// policy and a candidate; what changes is reported by command, reason, agent and session.

const scenarios = join(import.meta.dirname, "..", "..", "examples", "scenarios");
const events = ["expense-self-approval.jsonl", "benign-day.jsonl", "exfiltration.jsonl"].flatMap((f) =>
  readFileSync(join(scenarios, f), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const d = decodeLine(line);
      if (d.ok !== true) throw new Error(`bad fixture line: ${line}`);
      return d.event;
    }),
);

const run = (candidate: string) => {
  const s = shadowRun(compilePolicy(), compilePolicy(candidate));
  for (const e of events) s.handle(e);
  return s.report();
};

const maker = (decision: string, review: boolean) =>
  `version: 1\nseparationOfDuties:\n  - id: maker-checker-submit\n    steps: ["*.submit", "*.approve"]\n    sameResource: true\n    across: principal\n    decision: ${decision}\n    review: ${review}\n`;

describe("shadow: a policy change, side by side", () => {
  it("the same policy changes nothing", () => {
    const r = run("version: 1\n");
    expect(r.baseline).toEqual(r.candidate);
    expect(r.baseline.commands).toBeGreaterThan(0);
    expect([r.added, r.removed, r.modified, r.changedSessions, r.changed.length]).toEqual([0, 0, 0, 0, 0]);
  });

  it("self-approval escalated from downgrade to revoke: two downgrades removed, two revokes added, by reason, agent and session", () => {
    const r = run(maker("revoke", true));
    expect([r.added, r.removed, r.modified]).toEqual([2, 2, 0]);
    expect(r.byReason["sod.self_approval"]).toEqual({ added: 2, removed: 2, changed: 0 });
    expect(r.byAgent).toEqual({ "assistant-7": { added: 1, removed: 1, changed: 0 }, "mobile-agent-2": { added: 1, removed: 1, changed: 0 } });
    expect(r.changed.map((c) => c.sessionId)).toEqual(["exp-1", "exp-2"]);
    const exp1 = r.changed[0];
    expect(exp1?.baseline.map((c) => c.type)).toEqual(["downgrade"]);
    expect(exp1?.candidate.map((c) => c.type)).toEqual(["revoke"]);
    expect(exp1?.reasons).toContain("sod.self_approval");
    expect(r.baseline.byType.downgrade ?? 0).toBe((r.candidate.byType.downgrade ?? 0) + 2);
  });

  it("the same decision without review: the same command ids, changed", () => {
    const r = run(maker("downgrade", false));
    expect([r.added, r.removed, r.modified]).toEqual([0, 0, 2]);
    expect(r.changed.flatMap((c) => c.candidate.map((x) => x.review))).toEqual([false, false]);
    expect(r.changed.flatMap((c) => c.baseline.map((x) => x.review))).toEqual([true, true]);
  });

  it("the report is capped, the counts are not", () => {
    const s = shadowRun(compilePolicy(), compilePolicy(maker("revoke", true)));
    for (const e of events) s.handle(e);
    const r = s.report(1);
    expect(r.changed).toHaveLength(1);
    expect(r.changedSessions).toBe(2);
  });
});
