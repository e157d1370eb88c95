import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { ShadowReport } from "../../src/app/shadow.js";
import { vigil } from "../support/processes.js";
import { isolatedEnv, kafka, produce } from "../support/live.js";

// `vigil shadow` as an operator runs it: the shipped scenario files, then the same events on
// a live events topic (--from-topic, against the real broker), and a candidate policy that
// escalates self-approval from downgrade to revoke. Both ways must report the same change.

const root = join(import.meta.dirname, "..", "..");
const story = join(root, "examples", "scenarios", "expense-self-approval.jsonl");
const dir = mkdtempSync(join(tmpdir(), "vigil-shadow-"));
const candidate = join(dir, "candidate.yaml");
writeFileSync(
  candidate,
  'version: 1\nseparationOfDuties:\n  - id: maker-checker-submit\n    steps: ["*.submit", "*.approve"]\n    sameResource: true\n    across: principal\n    decision: revoke\n    review: true\n',
);

const shadow = (env: Record<string, string>, ...args: string[]) => {
  const r = vigil(["shadow", ...args], { env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("vigil shadow", () => {
  it("reports the change a policy edit makes, from files and from the live events topic alike", async () => {
    const files = shadow({}, story, "--policy", candidate, "--json");
    expect(files.code, files.stderr).toBe(0);
    const fromFiles = JSON.parse(files.stdout) as ShadowReport & { rejected: number; baselinePolicy: string };
    expect(fromFiles.baselinePolicy).toBe("default");
    expect([fromFiles.added, fromFiles.removed, fromFiles.modified, fromFiles.rejected]).toEqual([2, 2, 0, 0]);
    expect(fromFiles.changed.map((c) => [c.sessionId, c.baseline.map((x) => x.type), c.candidate.map((x) => x.type)])).toEqual([
      ["exp-1", ["downgrade"], ["revoke"]],
      ["exp-2", ["downgrade"], ["revoke"]],
    ]);

    const human = shadow({}, story, "--policy", candidate);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/change: 2 commands added, 2 removed, 0 changed, in 2 sessions/);
    expect(human.stdout).toMatch(/sod\.self_approval: \+2 -2 ~0/);

    const env = isolatedEnv("shadow");
    const config = loadConfig(env);
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: config.topics.events, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const lines = readFileSync(story, "utf8").split("\n").filter(Boolean);
    await produce(config.topics.events, [
      ...lines.map((value) => ({ key: (JSON.parse(value) as { sessionId: string }).sessionId, value })),
      { key: "x", value: "not an event" },
    ]);
    const live = shadow(env, "--from-topic", "--policy", candidate, "--json");
    expect(live.code, live.stderr).toBe(0);
    const fromTopic = JSON.parse(live.stdout) as ShadowReport & { rejected: number };
    expect(fromTopic.rejected).toBe(1);
    const { rejected: _a, ...a } = fromTopic;
    const { rejected: _b, baselinePolicy: _p, ...b } = fromFiles;
    expect({ ...a, baselinePolicy: undefined }).toEqual({ ...b, baselinePolicy: undefined });

    expect(shadow({}, story).code).toBe(2);
  });
});
