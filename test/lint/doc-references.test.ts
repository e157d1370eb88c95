import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

// The repository stands on its own: every document a file refers to is in it. A markdown
// link resolves to a file of the checkout (and, with an anchor, to one of its headings),
// a `docs/….md` named in code or docs exists, and no file leans on a design document a
// clone does not contain (the house style and the contract are docs/style.md and
// docs/contract.md).

const root = join(import.meta.dirname, "..", "..");
const tracked = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "" && existsSync(join(root, f)));
const TEXT = /\.(md|ts|mjs|cjs|js|json|avsc|ya?ml|sh)$|^\.ci\/run$/;
const texts = tracked.filter((f) => TEXT.test(f) && !f.includes("fixtures/") && !f.endsWith("package-lock.json"));
const read = (f: string) => readFileSync(join(root, f), "utf8");

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe("the repository stands on its own", () => {
  it("every relative markdown link resolves to a file of the checkout and, with an anchor, to one of its headings", () => {
    const broken: string[] = [];
    for (const file of texts.filter((f) => f.endsWith(".md"))) {
      const text = read(file).replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^[a-z]+:/i.test(target)) continue;
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const resolved = path === "" ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(root, resolved))) {
          broken.push(`${file}: ${target} (no ${resolved})`);
          continue;
        }
        if (anchor && resolved.endsWith(".md") && !anchors(read(resolved)).has(anchor.toLowerCase())) broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every docs/….md that code and docs name exists", () => {
    const missing: string[] = [];
    for (const file of texts)
      for (const [name] of read(file).matchAll(/\bdocs\/[\w./-]+\.md\b/g)) if (!existsSync(join(root, name))) missing.push(`${file}: ${name}`);
    expect(missing).toEqual([]);
  });

  it("no file leans on a design document the checkout does not contain", () => {
    const outside = /\b(STYLE|CONTRACT|ARCHITECTURE)\.md\b|the seed's/;
    const leaning = texts.filter((f) => f !== "test/lint/doc-references.test.ts" && outside.test(read(f)));
    expect(leaning).toEqual([]);
  });
});
