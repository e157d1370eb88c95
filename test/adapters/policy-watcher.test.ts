import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { watchPolicy } from "../../src/adapters/policy-watcher.js";
import type { CompiledPolicy } from "../../src/core/index.js";

// Policy reload: a valid edit takes effect; an invalid one is rejected with its errors and
// the policy in force stays.

const policy = (stepUp: number) => `version: 1\nthresholds: { step_up: ${stepUp}, downgrade: 0.7, revoke: 0.9 }\n`;
const touch = (path: string, text: string, second: number) => {
  writeFileSync(path, text);
  utimesSync(path, second, second);
};
const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe("policy reload", () => {
  it("swaps in valid edits and keeps the old policy on invalid ones", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "vigil-policy-")), "policy.yaml");
    touch(file, policy(0.5), 1_000_000);
    const loaded: CompiledPolicy[] = [];
    const rejected: string[] = [];
    const watcher = watchPolicy(file, 20, { loaded: (p) => loaded.push(p), rejected: (e) => rejected.push(e.message) });
    try {
      expect(watcher.current().thresholds.step_up).toBe(0.5);

      touch(file, "version: 1\nthresholds: { step_up: oops }\n", 1_000_010);
      await until(() => rejected.length > 0);
      expect(rejected[0]).toMatch(/policy\.yaml:2:\d+ thresholds\.step_up: expected number, received string/);
      expect(watcher.current().thresholds.step_up).toBe(0.5);

      touch(file, policy(0.4), 1_000_020);
      await until(() => loaded.length > 1);
      expect(watcher.current().thresholds.step_up).toBe(0.4);
      expect(loaded.map((p) => p.version)).toHaveLength(2);
      expect(loaded[0]?.version).not.toBe(loaded[1]?.version);
    } finally {
      watcher.stop();
    }
  });
});
