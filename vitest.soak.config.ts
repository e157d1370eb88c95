import { defineConfig } from "vitest/config";

// `npm run test:soak`: the long runs kept out of `npm test` — 1,000,000 hostile inputs
// through the decoder and the pipeline (with a garbage-collected heap reading), and faults
// at scale against the real broker and Redis (started by the same global setup as the
// integration tests). Their figures go into docs/operations.md.
export default defineConfig({
  test: {
    name: "soak",
    include: ["test/soak/**/*.soak.ts"],
    globalSetup: ["test/support/build-once.ts", "test/support/global-setup.ts"],
    hookTimeout: 300_000,
    testTimeout: 2_400_000,
    fileParallelism: false,
    pool: "forks",
    execArgv: ["--expose-gc"],
  },
});
