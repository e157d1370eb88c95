// Lint rules. The important ones are the purity rules: src/core and src/protocol are
// pure, synchronous code, so importing a driver, a Node built-in, reading the clock,
// randomness or the environment there fails the build (docs/style.md, rule 3).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const impureModules = [
  { group: ["node:*"], message: "core/protocol are pure: no Node built-ins." },
  {
    group: [
      "fs",
      "fs/*",
      "path",
      "os",
      "crypto",
      "http",
      "https",
      "net",
      "child_process",
      "events",
      "stream",
      "url",
      "util",
      "process",
      "timers",
      "timers/*",
      "worker_threads",
      "zlib",
      "readline",
      "buffer",
    ],
    message: "core/protocol are pure: no Node built-ins.",
  },
  { group: ["kafkajs", "ioredis", "prom-client", "@kafkajs/*", "avsc"], message: "core/protocol may not import drivers." },
  { group: ["**/adapters/**", "**/app/**", "**/cli/**", "**/sdk/**"], message: "Arrows point inward: core/protocol may not import outer layers." },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".stack/**", "coverage/**", "test/mcp-conformance/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  { files: ["**/*.mjs", "**/*.js"], languageOptions: { globals: globals.node } },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: globals.node } },
  {
    files: ["src/core/**/*.ts", "src/protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: impureModules }],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "core/protocol are pure: configuration is a parameter." },
        { name: "setTimeout", message: "core/protocol are synchronous." },
        { name: "setInterval", message: "core/protocol are synchronous." },
        { name: "performance", message: "core/protocol never read the clock." },
        { name: "crypto", message: "core/protocol derive ids, never draw them." },
        { name: "fetch", message: "core/protocol do no I/O." },
        { name: "Buffer", message: "core/protocol are runtime-neutral." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "Time comes from events (replay equals live)." },
        { object: "Math", property: "random", message: "Ids are derived, never random." },
        { object: "process", property: "env", message: "Configuration is a parameter." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "new Date() reads the clock: time comes from events." },
      ],
    },
  },
  {
    // The clock is a port in the application layer (app/ports.ts Clock): durations come
    // from it, so tests drive them and nothing there reads the time behind the caller's back.
    files: ["src/app/**/*.ts", "src/tooling/**/*.ts"],
    rules: {
      "no-restricted-globals": ["error", { name: "performance", message: "The clock is a port (app/ports.ts Clock)." }],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "The clock is a port (app/ports.ts Clock)." },
        { object: "performance", property: "now", message: "The clock is a port (app/ports.ts Clock)." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "new Date() reads the clock: the clock is a port (app/ports.ts Clock)." },
      ],
    },
  },
);
