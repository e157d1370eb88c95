import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY_YAML, compilePolicy, parsePolicyText } from "../../src/core/index.js";
import type { PolicyProblem } from "../../src/core/index.js";

// Policy files are validated on load; every problem names its line and its field.

function problemsOf(text: string): PolicyProblem[] {
  const parsed = parsePolicyText(text);
  expect(parsed.ok, "policy unexpectedly valid").toBe(false);
  return parsed.problems ?? [];
}

describe("parsePolicyText", () => {
  it("accepts the shipped default policy", () => {
    expect(parsePolicyText(DEFAULT_POLICY_YAML).ok).toBe(true);
    expect(compilePolicy().rules.map((r) => r.entry.id)).toEqual(["secrets-outside-intent", "restricted-admin"]);
  });

  it("an unknown nested key is reported on its own line, not its parent's first key", () => {
    const [p] = problemsOf("version: 1\nscoring:\n  halfLifeSeconds: 10\n  halfLife: 10\n");
    expect(p).toMatchObject({ line: 4, column: 3, field: "scoring.halfLife" });
    expect(p?.message).toContain("halfLife");
  });

  it("an unknown top-level key is reported on its own line, not line 1", () => {
    const [p] = problemsOf("version: 1\nthresholds: { step_up: 0.5, downgrade: 0.7, revoke: 0.9 }\nthresholdz: 3\n");
    expect(p).toMatchObject({ line: 3, column: 1, field: "thresholdz" });
    expect(p?.message).toContain("thresholdz");
  });

  it("a wrong type names the field, line and column", () => {
    const problems = problemsOf("version: 1\nthresholds:\n  step_up: high\n  downgrade: 0.7\n  revoke: 0.9\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 3, column: 12, field: "thresholds.step_up" });
    expect(problems[0]?.message).toContain("expected number");
  });

  it("a bad enum value inside a list names its index", () => {
    expect(problemsOf('version: 1\nrules:\n  - id: x\n    when: "true"\n    decision: nuke\n')[0]).toMatchObject({ line: 5, field: "rules.0.decision" });
  });

  it("bad YAML syntax is reported with a line, before any field check", () => {
    const problems = problemsOf("version: 1\nthresholds: { step_up: 0.5\nrules: []\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.field).toBe("");
    expect(problems[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it("a duplicate key is a syntax error on the second occurrence", () => {
    expect(problemsOf("version: 1\ntools: []\ntools: []\n")[0]?.line).toBe(3);
  });

  it("thresholds out of order are rejected on the thresholds line", () => {
    const [p] = problemsOf("version: 1\nthresholds: { step_up: 0.9, downgrade: 0.5, revoke: 0.7 }\n");
    expect(p).toMatchObject({ line: 2, field: "thresholds" });
    expect(p?.message).toContain("step_up <= downgrade <= revoke");
  });

  it("an unsupported version is rejected on its line", () => {
    expect(problemsOf("version: 2\n")[0]).toMatchObject({ line: 1, field: "version" });
  });
});
