import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vigil as runVigil } from "../support/processes.js";

// `vigil policy check`: a typo that would switch a control off (a CEL condition reading an
// undeclared field, a weight for a reason code Vigil never raises) fails the check with the
// line and the field (issue 29); the shipped default checks clean.

const vigil = (...args: string[]) => runVigil(args, { env: { PATH: process.env.PATH ?? "" } });
const dir = mkdtempSync(join(tmpdir(), "vigil-policy-check-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("vigil policy check", () => {
  it("rejects a misspelt event field in a rule, naming line, column and field (exit 2)", () => {
    const path = file(
      "kind.yaml",
      'version: 1\nrules:\n  - id: egress\n    when: >-\n      event.type == "action"\n      && event.action.knd == "egress"\n    decision: revoke\n',
    );
    const r = vigil("policy", "check", path);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${path}:6:23 rules.0.when: rule egress: unknown field event.action.knd; did you mean event.action.kind?`);
  });

  it("rejects an unknown reason code under scoring.weights (exit 2)", () => {
    const path = file("weights.yaml", "version: 1\nscoring:\n  weights:\n    intent.out_of_scop: 0.6\n");
    const r = vigil("policy", "check", path);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${path}:4:5 scoring.weights.intent.out_of_scop: unknown reason code "intent.out_of_scop"; did you mean "intent.out_of_scope"?`);
  });

  it("accepts the shipped default", () => {
    const printed = vigil("policy", "default");
    expect(printed.status).toBe(0);
    const r = vigil("policy", "check", file("default.yaml", printed.stdout));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: valid \(version /);
  });
});
