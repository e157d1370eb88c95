import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

// Vitest global setup: some tests run the built CLI (dist/), so a test run builds first when
// dist is missing or older than any source file. `npm test` has just built, so it skips this;
// `npm run test:unit` or `npx vitest` after an edit builds (about 20 s) instead of testing a
// stale CLI.

const root = join(import.meta.dirname, "..", "..");

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export default function setup(): void {
  // NO_TEST_BUILD=1: run tests that need no CLI while the tree does not build (work in progress elsewhere).
  // Not a VIGIL_ variable: spawned CLIs would refuse it as unknown configuration.
  if (process.env.NO_TEST_BUILD === "1") return;
  const built = join(root, "dist", "cli", "main.js");
  const stale = !existsSync(built) || Math.max(newest(join(root, "src")), statSync(join(root, "package.json")).mtimeMs) > statSync(built).mtimeMs;
  if (!stale) return;
  process.stderr.write("[test] dist/ is missing or older than src/: building (npm run build)\n");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
}
