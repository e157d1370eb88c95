import { describe, expect, it } from "vitest";
import { vigil as runVigil } from "../support/processes.js";

// Usage errors through the CLI: an unknown option, a missing option value or an unknown
// command is named on one line followed by the usage, exit 2, never a stack trace.

const vigil = (...args: string[]) => runVigil(args);

describe("vigil usage errors", () => {
  it("an unknown option names the option and prints the usage (exit 2)", () => {
    const r = vigil("eval", "--bogus", "x");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: Unknown option '--bogus'\n\nvigil — continuous verification/);
    expect(r.stderr).not.toMatch(/\bat \S+ \(|TypeError/);
  });

  it("an option missing its value is a usage error", () => {
    const r = vigil("replay", "events.jsonl", "--policy");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: Option '--policy <value>' argument missing/);
  });

  it("--help after a command prints the usage on stdout (exit 0)", () => {
    const r = vigil("eval", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("vigil eval <labelled.jsonl>...");
    expect(r.stderr).toBe("");
  });

  it("an unknown command is a usage error", () => {
    const r = vigil("teleport");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: unknown command: teleport/);
  });
});
