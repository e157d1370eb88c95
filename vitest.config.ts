import { defineConfig } from "vitest/config";

// Three projects: `unit` (no network; builds dist/ first when it is stale, for the tests that
// run the CLI), `integration` (Vigil against the real broker, registry and Redis, started by
// the global setup) and `stack` (the local stack itself: scripts/stack, the compose file and
// the client libraries, not Vigil). `npm test` runs all three.
const live = {
  globalSetup: ["test/support/build-once.ts", "test/support/global-setup.ts"],
  testTimeout: 120_000,
  hookTimeout: 300_000,
  fileParallelism: false,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          // node_modules: the conformance test installs the MCP conformance suite under test/
          // (its dependencies ship their own *.test.ts); a second run must not collect them.
          exclude: ["**/node_modules/**", "test/**/*.int.test.ts", "test/**/*.e2e.test.ts"],
          globalSetup: ["test/support/build-once.ts"],
          // Some unit tests spawn the CLI (a Node process loading the whole build): on a loaded
          // 2-core machine one such test can take far longer than vitest's 5 s default. Pure
          // tests finish in milliseconds either way; a hang still fails, after a minute.
          testTimeout: 60_000,
        },
      },
      { test: { name: "integration", include: ["test/**/*.int.test.ts", "test/**/*.e2e.test.ts"], exclude: ["**/node_modules/**", "test/stack/**"], ...live } },
      { test: { name: "stack", include: ["test/stack/**/*.test.ts"], exclude: ["**/node_modules/**"], ...live } },
    ],
  },
});
