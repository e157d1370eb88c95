import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_SCHEMA } from "../../src/config/config.js";

// Every configuration variable the processor accepts is in docs/operations.md's table, so a
// new one cannot ship undocumented (loadConfig rejects unknown VIGIL_ variables, pointing there).

describe("configuration docs", () => {
  it("docs/operations.md names every variable of the configuration schema", () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "operations.md"), "utf8");
    const missing = Object.keys(ENV_SCHEMA.shape).filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});
