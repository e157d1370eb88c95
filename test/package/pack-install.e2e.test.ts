import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_YAML } from "../../src/core/index.js";
import { brokers, redisUrl, repoRoot } from "../support/stack-env.js";

// Vigil as others get it: `npm pack`, install the tarball into a fresh project, and use it
// from there only — the SDKs through their package exports with the bundled types, the CLI
// through npx. Nothing here reads the repository except the tarball and the golden output.

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const tsc = join(repoRoot, "node_modules", ".bin", "tsc");
let work = "";
let app = "";
let files: string[] = [];

const npx = (args: string[], options: { env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync("npx", ["--no-install", "vigil", ...args], { cwd: app, encoding: "utf8", env: { ...process.env, ...options.env }, timeout: 60_000 });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "vigil-pack-"));
  // `npm test` builds first; --ignore-scripts packs that build instead of building again.
  const packed = JSON.parse(execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: repoRoot, encoding: "utf8" })) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = packed[0] as { filename: string; files: { path: string }[] };
  files = tarball.files.map((f) => f.path);
  app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "vigil-consumer", private: true, type: "module" }));
  execFileSync(npm, ["install", join(work, tarball.filename), "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
    encoding: "utf8",
    timeout: 240_000,
  });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package, installed into a fresh project", () => {
  it("ships the build, the schemas and the examples, and nothing of the repository's tests, sources or benchmarks", () => {
    for (const f of [
      "dist/sdk/publisher.js",
      "dist/sdk/publisher.d.ts",
      "dist/sdk/enforcer.js",
      "dist/sdk/enforcer.d.ts",
      "dist/cli/main.js",
      "schemas/vigil-event.avsc",
      "examples/scenarios/expense-self-approval.jsonl",
      "README.md",
      "LICENSE",
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => /^(src|test|bench|scripts|stack|docs|dashboards)\//.test(f))).toEqual([]);
  });

  it("type-checks a consumer of vigil/publisher and vigil/enforcer against the bundled types (and refuses a wrong one)", () => {
    const tsconfig = (file: string) =>
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(repoRoot, "node_modules", "@types")],
        },
        files: [file],
      });
    writeFileSync(
      join(app, "consumer.ts"),
      `import { createPublisher, toolOutput } from "vigil/publisher";
import type { Publisher } from "vigil/publisher";
import { createEnforcer } from "vigil/enforcer";
import type { Enforcer } from "vigil/enforcer";

export async function wire(brokers: string[]): Promise<{ publisher: Publisher; enforcer: Enforcer }> {
  const publisher = await createPublisher({ brokers, topic: "vigil.events" });
  const enforcer = await createEnforcer({ brokers, enforcerId: "gateway-1", verify: { jwksUrl: "http://127.0.0.1:9464/.well-known/jwks.json" } });
  const verdict = enforcer.check("session-1", "mail.send", "bob@example.com");
  const output = toolOutput("hello", { mediaType: "text/plain" });
  void [verdict.outcome, output.text];
  return { publisher, enforcer };
}
`,
    );
    writeFileSync(join(app, "tsconfig.json"), tsconfig("consumer.ts"));
    const ok = spawnSync(tsc, ["-p", "tsconfig.json"], { cwd: app, encoding: "utf8" });
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    writeFileSync(
      join(app, "wrong.ts"),
      `import { createEnforcer } from "vigil/enforcer";\nexport const e = createEnforcer({ brokers: ["b:9092"], enforcerIdentity: "x", verify: { insecureAcceptUnsigned: true } });\n`,
    );
    writeFileSync(join(app, "tsconfig.json"), tsconfig("wrong.ts"));
    const wrong = spawnSync(tsc, ["-p", "tsconfig.json"], { cwd: app, encoding: "utf8" });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toContain("enforcerIdentity");
  });

  it("imports the SDKs at run time from the package exports", () => {
    const run = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const p = await import("vigil/publisher"); const e = await import("vigil/enforcer"); console.log(typeof p.createPublisher, typeof e.createEnforcer);',
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("function function");
  });

  it("npx vigil --help and npx vigil policy default", () => {
    const help = npx(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("vigil replay <events.jsonl>");
    const policy = npx(["policy", "default"]);
    expect(policy.status).toBe(0);
    expect(policy.stdout).toBe(DEFAULT_POLICY_YAML);
  });

  it("npx vigil replay on a shipped example prints the reviewed commands", () => {
    const run = npx(["replay", join("node_modules", "vigil", "examples", "scenarios", "expense-self-approval.jsonl")]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(repoRoot, "test", "golden", "expected", "expense-self-approval.commands.jsonl"), "utf8"));
  });

  it("npx vigil demo --for 10 plays the story against the local stack and exits 0", { timeout: 90_000 }, async () => {
    const child = spawn("npx", ["--no-install", "vigil", "demo", "--for", "10", "--pace", "50"], {
      cwd: app,
      env: { ...process.env, VIGIL_KAFKA_BROKERS: brokers.join(","), VIGIL_REDIS_URL: redisUrl, VIGIL_HTTP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(out).toMatch(/COMMAND DOWNGRADE exp-1-\w+ removed expense\.approve — sod\.self_approval/);
    expect(out).toMatch(/stopping: \d+ commands seen/);
    expect(code).toBe(0);
  });
});
