import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DLQ_REASONS } from "../../src/protocol/index.js";

// One list of dead-letter reasons (src/protocol/dlq.ts): each is named where users read
// them, the metric's labels (docs/metrics.md) and the DLQ's description (docs/operations.md),
// so a new reason cannot ship undocumented.

const doc = (name: string) => readFileSync(join(import.meta.dirname, "..", "..", "docs", name), "utf8");

describe("DLQ reasons", () => {
  it.each(["metrics.md", "operations.md"])("docs/%s names every reason", (name) => {
    const text = doc(name);
    expect(DLQ_REASONS.filter((r) => !text.includes(`\`${r}\``))).toEqual([]);
  });
});
