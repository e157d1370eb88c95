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
          exclude: ["test/**/*.int.test.ts", "test/**/*.e2e.test.ts"],
          globalSetup: ["test/support/build-once.ts"],
        },
      },
      { test: { name: "integration", include: ["test/**/*.int.test.ts", "test/**/*.e2e.test.ts"], exclude: ["test/stack/**"], ...live } },
      { test: { name: "stack", include: ["test/stack/**/*.test.ts"], ...live } },
    ],
  },
});
