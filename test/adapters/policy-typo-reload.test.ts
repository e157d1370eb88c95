import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchPolicy } from "../../src/adapters/policy-watcher.js";
import { loadPolicy } from "../../src/adapters/policy-file.js";
import { PolicyError } from "../../src/core/index.js";

// A typo that would switch a control off (issue 29) is refused at start and on reload: the
// policy in force stays.

const good = 'version: 1\nrules:\n  - id: egress\n    when: event.type == "action" && event.action.kind == "egress"\n    decision: step_up\n';
const typos = [good.replace("action.kind", "action.knd"), "version: 1\nscoring:\n  weights:\n    intent.out_of_scop: 0.6\n"];
const touch = (path: string, text: string, second: number) => {
  writeFileSync(path, text);
  utimesSync(path, second, second);
};
const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe("a policy with a typo", () => {
  it("is refused at start", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-policy-typo-"));
    for (const [i, text] of typos.entries()) {
      const file = join(dir, `start-${i}.yaml`);
      writeFileSync(file, text);
      expect(() => loadPolicy(file)).toThrow(PolicyError);
      expect(() => watchPolicy(file, 20, { loaded: () => {}, rejected: () => {} })).toThrow(
        /unknown (field event\.action\.knd|reason code "intent\.out_of_scop")/,
      );
    }
  });

  it("is refused on reload, and the policy in force stays", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "vigil-policy-typo-")), "policy.yaml");
    touch(file, good, 1_000_000);
    const rejected: string[] = [];
    const watcher = watchPolicy(file, 20, { loaded: () => {}, rejected: (e) => rejected.push(e.message) });
    try {
      const before = watcher.current().version;
      for (const [i, text] of typos.entries()) {
        touch(file, text, 1_000_010 + i * 10);
        await until(() => rejected.length > i);
        expect(watcher.current().version).toBe(before);
      }
      expect(rejected[0]).toMatch(/policy\.yaml:4:\d+ rules\.0\.when: rule egress: unknown field event\.action\.knd; did you mean event\.action\.kind\?/);
      expect(rejected[1]).toMatch(/policy\.yaml:4:5 scoring\.weights\.intent\.out_of_scop: unknown reason code/);
      expect(watcher.current().rules.find((r) => r.entry.id === "egress")?.condition.source).toContain("action.kind");
    } finally {
      watcher.stop();
    }
  });
});
