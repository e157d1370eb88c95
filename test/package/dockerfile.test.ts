import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// No Docker engine here to build the image, so its inputs are checked instead: every path the
// Dockerfile copies from the build context exists (a moved directory once broke the build).

const root = join(import.meta.dirname, "..", "..");

describe("Dockerfile", () => {
  it("copies only paths that exist in the repository", () => {
    const sources = readFileSync(join(root, "Dockerfile"), "utf8")
      .split("\n")
      .filter((l) => /^COPY\s/.test(l) && !l.includes("--from="))
      .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    expect(sources.filter((s) => !existsSync(join(root, s)))).toEqual([]);
  });
});
