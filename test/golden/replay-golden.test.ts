import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { Command } from "../../src/protocol/index.js";
import { cliPath as cli } from "../support/processes.js";

// Golden scenarios through the real CLI: `vigil replay` must print exactly the reviewed
// commands, byte-identical across runs. Regenerate after an intended change with
//   for f in examples/scenarios/*.jsonl; do node dist/cli/main.js replay $f --out test/golden/expected/$(basename $f .jsonl).commands.jsonl; done
// and review the diff.

const root = join(import.meta.dirname, "..", "..");
const scenarioDir = join(root, "examples", "scenarios");
const scenarios = readdirSync(scenarioDir).filter((f) => f.endsWith(".jsonl"));

const replay = (file: string): string => execFileSync(process.execPath, [cli, "replay", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const commands = (text: string): Command[] =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => Command.parse(JSON.parse(l)));

describe("golden scenarios through `vigil replay`", () => {
  it("has a built CLI (npm run build)", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  for (const scenario of scenarios) {
    const name = basename(scenario, ".jsonl");
    it(`${name}: prints the reviewed commands, byte-identical across two runs`, () => {
      const file = join(scenarioDir, scenario);
      const first = replay(file);
      expect(replay(file)).toBe(first);
      expect(first).toBe(readFileSync(join(import.meta.dirname, "expected", `${name}.commands.jsonl`), "utf8"));
    });
  }

  it("expense-self-approval: the agent's self-approval is denied and the principal cannot approve through another agent", () => {
    const out = commands(replay(join(scenarioDir, "expense-self-approval.jsonl")));
    expect(out.map((c) => [c.type, c.sessionId, c.capabilities?.removed])).toEqual([
      ["downgrade", "exp-1", ["expense.approve"]],
      ["downgrade", "exp-2", ["expense.approve"]],
    ]);
    expect(out.every((c) => c.reasons[0]?.code === "sod.self_approval" && c.review.required)).toBe(true);
    expect(out.some((c) => c.sessionId === "exp-3")).toBe(false);
  });

  it("secrets-reach: reaching for production secrets revokes the session pending review", () => {
    const [revoke, ...rest] = commands(replay(join(scenarioDir, "secrets-reach.jsonl")));
    expect(rest).toEqual([]);
    expect(revoke).toMatchObject({ type: "revoke", causedBy: ["code-1#3"], review: { required: true, status: "pending" } });
    expect(revoke?.reasons[0]?.code).toBe("rule.secrets-outside-intent");
    expect(revoke?.caep.eventType).toBe("https://schemas.openid.net/secevent/caep/event-type/session-revoked");
  });

  it("exfiltration: the external egress after a PII read revokes, citing both events", () => {
    const [revoke] = commands(replay(join(scenarioDir, "exfiltration.jsonl")));
    expect(revoke).toMatchObject({ type: "revoke", causedBy: ["crm-1#1", "crm-1#2"] });
    expect(revoke?.reasons[0]?.code).toBe("sequence.exfiltration");
  });

  it("device-noncompliant: a device falling out of compliance demands a step-up", () => {
    const out = commands(replay(join(scenarioDir, "device-noncompliant.jsonl")));
    expect(out.map((c) => [c.type, c.causedBy])).toEqual([["step_up", ["dev-1#2"]]]);
  });

  it("benign-day: mixed ordinary work produces no blocking command", () => {
    const out = commands(replay(join(scenarioDir, "benign-day.jsonl")));
    expect(out.filter((c) => ["revoke", "downgrade", "step_up", "deny_grant"].includes(c.type))).toEqual([]);
    expect(out.map((c) => c.type)).toEqual(["grant", "grant", "grant"]);
  });
});
