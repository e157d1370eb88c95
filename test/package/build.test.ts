import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `npm ci && npm run demo`, then `npx vigil review list`: npx runs the bin entry itself, so
// the build must leave every bin entry executable (tsc writes files without the execute bit).

const root = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string>; scripts: { build: string } };
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const executable = (path: string) => (statSync(path).mode & 0o111) === 0o111;
const work = mkdtempSync(join(tmpdir(), "vigil-build-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(process.platform === "win32")("npm run build", () => {
  it("leaves every bin entry executable, runnable by its path (package.json's build script, on a small tree)", { timeout: 120_000 }, () => {
    // The repository's build script and bin entries over a one-file source tree: the script under test, not the whole compile.
    writeFileSync(
      join(work, "package.json"),
      JSON.stringify({ name: "build-probe", private: true, type: "module", bin: pkg.bin, scripts: { build: pkg.scripts.build } }),
    );
    writeFileSync(
      join(work, "tsconfig.build.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: [], rootDir: "src", outDir: "dist" },
        include: ["src"],
      }),
    );
    for (const [name, bin] of Object.entries(pkg.bin)) {
      const source = join(work, bin.replace(/^dist\//, "src/").replace(/\.js$/, ".ts"));
      mkdirSync(join(source, ".."), { recursive: true });
      writeFileSync(source, `#!/usr/bin/env node\nconsole.log("${name} ran");\n`);
    }
    symlinkSync(join(root, "node_modules"), join(work, "node_modules"), "dir");
    execFileSync(npm, ["run", "build", "--silent"], { cwd: work, encoding: "utf8", timeout: 100_000 });
    for (const [name, bin] of Object.entries(pkg.bin)) {
      expect(executable(join(work, bin)), `${bin} is executable`).toBe(true);
      const r = spawnSync(join(work, bin), [], { cwd: work, encoding: "utf8", timeout: 30_000 });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe(`${name} ran\n`);
    }
  });

  it("has left the repository's own dist/cli/main.js executable: `dist/cli/main.js --help` runs by its path", { timeout: 60_000 }, () => {
    // dist/ comes from `npm run build` (the test setup builds it when it is older than src/ or package.json).
    for (const bin of Object.values(pkg.bin)) expect(executable(join(root, bin)), `${bin} is executable`).toBe(true);
    const r = spawnSync(join(root, pkg.bin.vigil as string), ["--help"], { cwd: root, encoding: "utf8", timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("vigil — continuous verification for AI agents");
  });
});
