import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Errors carry a stable code (docs/style.md, rule 8): every error class in src/ declares a
// readonly `code`, and docs/operations.md ("Errors and their codes") names the class, so a
// new error cannot ship without a code or undocumented.

const root = join(import.meta.dirname, "..", "..");
const sources = (readdirSync(join(root, "src"), { recursive: true }) as string[]).filter((f) => f.endsWith(".ts"));

/** Each `class X extends Error` in src/, with the text of its body up to the constructor's end or the class's close. */
const classes = sources.flatMap((file) => {
  const text = readFileSync(join(root, "src", file), "utf8");
  return [...text.matchAll(/class (\w+)(?:<[^>]*>)? extends Error \{([\s\S]*?)\n\}/g)].map((m) => ({ file, name: m[1] as string, body: m[2] as string }));
});

describe("error codes", () => {
  it("finds the error classes", () => expect(classes.length).toBeGreaterThan(10));

  it("every error class declares a readonly code", () => {
    expect(classes.filter((c) => !/readonly code\b/.test(c.body)).map((c) => `${c.file}: ${c.name}`)).toEqual([]);
  });

  it("docs/operations.md names every error class", () => {
    const doc = readFileSync(join(root, "docs", "operations.md"), "utf8");
    expect(classes.filter((c) => !doc.includes(`\`${c.name}\``)).map((c) => c.name)).toEqual([]);
  });
});
