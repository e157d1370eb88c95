import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vigil } from "../support/processes.js";

// Bad input through the CLI: every bad line is named with its line number, the field, and
// the reason code the live processor would dead-letter it with; counted, and skipped; the
// run goes on and exits 0 unless --strict.

const common = { sessionId: "s1", agent: { id: "a1" }, principal: { id: "p1" } };
const line = (o: unknown) => JSON.stringify(o);

const lines = [
  line({ ...common, eventId: "e0", type: "session.started", time: "2026-11-28T09:00:00Z", intent: { goal: "read the wiki", capabilities: ["wiki.*"] } }),
  "{not json",
  line({ ...common, eventId: "e2", type: "teleport", time: "2026-11-28T09:00:01Z" }),
  line({ ...common, eventId: "e3", type: "action", time: "2026-11-28T09:00:02Z" }),
  line({ ...common, eventId: "e4", type: "action", time: "2026-11-28T09:00:03Z", action: { capability: 42 } }),
  line({ ...common, eventId: "e5", type: "action", time: "yesterday", action: { capability: "wiki.read" } }),
  "",
  line({ ...common, eventId: "e7", type: "action", time: "2026-11-28T09:00:05Z", action: { capability: "wiki.read" }, extra: "ignored" }),
  line({ ...common, eventId: "e7", type: "action", time: "2026-11-28T09:00:05Z", action: { capability: "wiki.read" } }),
  line({ ...common, eventId: "e9", type: "action", time: "2026-11-28T08:59:00Z", action: { capability: "wiki.read" } }),
  line({
    eventId: "x1",
    type: "action",
    sessionId: "never-started",
    time: "2026-11-28T09:00:06Z",
    agent: { id: "a2" },
    principal: { id: "p2" },
    action: { capability: "payments.send", kind: "egress" },
    args: { iban: "DE89370400440532013000" },
  }),
  "[1,2]",
  line({
    ...common,
    eventId: "e12",
    type: "action.result",
    time: "2026-11-28T09:00:07Z",
    actionEventId: "e7",
    outcome: "success",
    output: { text: "x".repeat(65_537) },
  }),
];

function run(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bad-"));
  const file = join(dir, "events.jsonl");
  writeFileSync(file, lines.join("\n"));
  const r = vigil(["replay", file, ...args]);
  return { ...r, file };
}

describe("vigil replay with bad input", () => {
  it("names the line and the field of every bad line, skips it and exits 0", () => {
    const { status, stderr, file } = run([]);
    expect(status).toBe(0);
    expect(stderr).toContain(`${file}:2: unparseable JSON`);
    expect(stderr).toContain(`${file}:3: type: unknown event type "teleport"`);
    expect(stderr).toMatch(new RegExp(`${file}:4: action: expected object, received undefined`));
    expect(stderr).toContain(`${file}:5: action.capability: expected string, received number`);
    expect(stderr).toMatch(new RegExp(`${file}:6: time: `));
    expect(stderr).toContain(`${file}:12: event: expected a JSON object [invalid_event]`);
    expect(stderr).toContain(
      `${file}:13: output.text: 65537 characters, over the limit of 65536; send at most 65536 with output.truncated: true and the full size in output.bytes [output_too_large]\n`,
    );
    expect(stderr).not.toContain("xxxxxxxx");
    expect(stderr).toContain("events read: 4, sessions: 2, duplicates: 1");
    expect(stderr).toContain("lines rejected: 7 (invalid_event=5, output_too_large=1, unparseable_json=1)");
  });

  it("still scores events of a session that was never started: an unexplained payment demands a step-up", () => {
    const { stdout } = run([]);
    const commands = stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; type: string; reasons: { code: string }[] });
    expect(commands.map((c) => [c.sessionId, c.type, c.reasons.map((r) => r.code)])).toEqual([
      ["never-started", "step_up", ["intent.unknown", "intent.unknown"]],
    ]);
  });

  it("--strict fails the run when a line was rejected", () => {
    expect(run(["--strict"]).status).toBe(1);
  });

  it("a missing file is a clear error, not a stack trace", () => {
    const r = vigil(["replay", "/nonexistent/events.jsonl"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^vigil: ENOENT: no such file or directory/);
  });
});
