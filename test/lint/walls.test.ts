import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ESLint } from "eslint";
import { afterAll, describe, expect, it } from "vitest";

// The lint step holds the walls between layers (.dependency-cruiser.cjs) and the purity rules
// (eslint.config.mjs). These tests build small trees that break one rule each, run the same
// checks `npm run lint` runs, and expect each to fail naming the rule; a tree that follows
// the rules must pass, so a check that never fails would fail here.

const root = join(import.meta.dirname, "..", "..");
const depcruise = join(root, "node_modules", ".bin", "depcruise");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes `files` (path → source) under a fresh folder with a tsconfig, and runs the layer check there. */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "vigil-walls-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true }, include: ["src"] }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(depcruise, ["src", "--config", join(root, ".dependency-cruiser.cjs"), "--output-type", "err"], { cwd: dir, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const leaf = "export const value = 1;\n";

describe("layer walls (dependency-cruiser)", () => {
  it("passes a tree that follows the arrows", () => {
    const run = cruise({
      "src/protocol/event.ts": leaf,
      "src/core/reading/text.ts": 'import { value } from "../../protocol/event.js";\nexport const text = value;\n',
      "src/core/engine.ts": 'import { text } from "./reading/text.js";\nexport const engine = text;\n',
      "src/app/pipeline.ts": 'import { engine } from "../core/engine.js";\nexport const pipeline = engine;\n',
      "src/adapters/kafka.ts":
        'import { pipeline } from "../app/pipeline.js";\nimport { codec } from "../codec/avro-codec.js";\nexport const kafka = pipeline + codec;\n',
      "src/adapters/http.ts": 'import { Hono } from "hono";\nexport const http = new Hono();\n',
      "src/sdk/publisher.ts":
        'import { value } from "../protocol/event.js";\nimport { codec } from "../codec/avro-codec.js";\nexport const publisher = value + codec;\n',
      "src/codec/avro-codec.ts": 'import { value } from "../protocol/event.js";\nexport const codec = value;\n',
      "src/main.ts": 'import { kafka } from "./adapters/kafka.js";\nexport const main = kafka;\n',
      "src/cli/main.ts": 'import { main } from "../main.js";\nimport { publisher } from "../sdk/publisher.js";\nexport const cli = main + publisher;\n',
    });
    expect(run.output).toContain("no dependency violations");
    expect(run.status).toBe(0);
  });

  it.each([
    [
      "core-on-protocol",
      { "src/core/engine.ts": 'import { x } from "../adapters/redis.js";\nexport const y = x;\n', "src/adapters/redis.ts": "export const x = 1;\n" },
    ],
    [
      "reading-is-a-wing",
      {
        "src/core/reading/text.ts": 'import type { X } from "../session-state.js";\nexport type Y = X;\n',
        "src/core/session-state.ts": "export type X = number;\n",
      },
    ],
    [
      "app-on-core",
      { "src/app/pipeline.ts": 'import { x } from "../adapters/redis.js";\nexport const y = x;\n', "src/adapters/redis.ts": "export const x = 1;\n" },
    ],
    [
      "protocol-is-innermost",
      { "src/protocol/event.ts": 'import type { X } from "../core/engine.js";\nexport type Y = X;\n', "src/core/engine.ts": "export type X = number;\n" },
    ],
    ["adapters-on-app", { "src/adapters/kafka.ts": 'import { x } from "../main.js";\nexport const y = x;\n', "src/main.ts": "export const x = 1;\n" }],
    [
      "sdk-on-protocol",
      { "src/sdk/enforcer.ts": 'import { x } from "../adapters/redis.js";\nexport const y = x;\n', "src/adapters/redis.ts": "export const x = 1;\n" },
    ],
    [
      "codec-on-protocol",
      { "src/codec/avro-codec.ts": 'import { x } from "../adapters/redis.js";\nexport const y = x;\n', "src/adapters/redis.ts": "export const x = 1;\n" },
    ],
    ["sdk-codec-has-no-io", { "src/codec/record-jws.ts": 'import { readFileSync } from "node:fs";\nexport const y = readFileSync;\n' }],
    ["sdk-codec-has-no-io", { "src/sdk/publisher.ts": 'import { readFileSync } from "node:fs";\nexport const y = readFileSync;\n' }],
    ["http-framework-in-adapters", { "src/app/review.ts": 'import { Hono } from "hono";\nexport const y = Hono;\n' }],
    ["http-framework-in-adapters", { "src/main.ts": 'import { serve } from "@hono/node-server";\nexport const y = serve;\n' }],
    [
      "tooling-on-app",
      { "src/tooling/evaluate.ts": 'import { x } from "../adapters/redis.js";\nexport const y = x;\n', "src/adapters/redis.ts": "export const x = 1;\n" },
    ],
    ["cli-is-outermost", { "src/app/pipeline.ts": 'import { x } from "../cli/main.js";\nexport const y = x;\n', "src/cli/main.ts": "export const x = 1;\n" }],
    [
      "no-circular",
      {
        "src/core/a.ts": 'import type { B } from "./b.js";\nexport type A = { b?: B };\n',
        "src/core/b.ts": 'import type { A } from "./a.js";\nexport type B = { a?: A };\n',
      },
    ],
  ] as const)("fails on a %s violation", (rule, files) => {
    const run = cruise(files);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`error ${rule}:`);
  });
});

describe("purity and clock rules (eslint)", () => {
  const eslint = new ESLint({ cwd: root });
  const messages = async (filePath: string, code: string) =>
    (await eslint.lintText(code, { filePath: join(root, filePath) }))[0]?.messages.map((m) => m.message) ?? [];

  it("lets src/app measure time only through the Clock port", async () => {
    expect(await messages("src/app/timing.ts", "export const t = (clock: { monotonicMs(): number }) => clock.monotonicMs();\n")).toEqual([]);
    expect(await messages("src/app/timing.ts", "export const t = () => performance.now();\n")).toEqual(
      expect.arrayContaining([expect.stringContaining("The clock is a port")]),
    );
    expect(await messages("src/app/timing.ts", "export const t = () => Date.now();\n")).toEqual(
      expect.arrayContaining([expect.stringContaining("The clock is a port")]),
    );
  });

  it("keeps src/core free of drivers, built-ins and the clock", async () => {
    expect(await messages("src/core/x.ts", 'import { Redis } from "ioredis";\nexport const r = Redis;\n')).toEqual(
      expect.arrayContaining([expect.stringContaining("may not import drivers")]),
    );
    expect(await messages("src/core/x.ts", 'import { readFileSync } from "node:fs";\nexport const r = readFileSync;\n')).toEqual(
      expect.arrayContaining([expect.stringContaining("no Node built-ins")]),
    );
    expect(await messages("src/core/x.ts", "export const t = () => Date.now();\n")).toEqual(
      expect.arrayContaining([expect.stringContaining("Time comes from events")]),
    );
  });
});
