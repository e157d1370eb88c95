// The walls between Vigil's layers, checked by `npm run lint` (docs/architecture.md has the
// picture). Arrows point inward:
//
//   protocol ← core ← app ← tooling              (core/reading, the text reading, imports only itself and protocol)
//                       ↖   config ← adapters ← main.ts ← cli     (main.ts and compose/ also use sdk's enforcer for the AuthZEN door's hold)
//   codec → protocol (the Avro and JWS codecs: no I/O, no driver); sdk → codec, protocol; adapters → codec
//   hono (the HTTP layer, adapters/http-app.ts) is imported by adapters only
//
// Type-only imports count: a cycle of types is still a cycle.
/** @type {import('dependency-cruiser').IConfiguration} */
const layer = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: "^src/", pathNot: allowed },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycles anywhere, type-only imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer("protocol-is-innermost", "^src/protocol/", "^src/protocol/", "protocol imports nothing of Vigil's but itself."),
    layer("core-on-protocol", "^src/core/", "^src/(core|protocol)/", "core is pure: it sees only protocol."),
    layer(
      "reading-is-a-wing",
      "^src/core/reading/",
      "^src/(core/reading|protocol)/",
      "core/reading (the words, moods and destinations of free text) knows nothing of sessions, scorers or policy: it imports only itself and protocol.",
    ),
    layer("app-on-core", "^src/app/", "^src/(app|core|protocol)/", "app orchestrates the core through ports; it never sees an adapter."),
    layer("tooling-on-app", "^src/tooling/", "^src/(tooling|app|core|protocol)/", "offline tooling (evaluation, catalog import) is not part of the processor."),
    layer(
      "codec-on-protocol",
      "^src/codec/",
      "^src/(codec|protocol)/",
      "the codecs (Avro, JWS) the SDKs and the adapters share see only protocol: no I/O, nothing of the processor.",
    ),
    layer("config-on-protocol", "^src/config/", "^src/(config|protocol)/", "configuration parsing depends on nothing but protocol."),
    layer(
      "adapters-on-app",
      "^src/adapters/",
      "^src/(adapters|codec|config|app|core|protocol)/",
      "adapters implement ports; they never reach the composition root, the CLI or the SDKs.",
    ),
    layer(
      "main-composes",
      "^src/(main\\.ts$|compose/)",
      "^src/(adapters|codec|config|app|core|protocol|sdk|compose)/",
      "the composition root (main.ts and its parts in compose/) wires adapters; it is not wired by them (the AuthZEN door holds with the enforcer SDK, as any gateway does).",
    ),
    layer(
      "sdk-on-protocol",
      "^src/sdk/",
      "^src/(sdk|codec|protocol)/",
      "the SDKs ship to agents and gateways: protocol and the codecs, and nothing of the processor.",
    ),
    {
      name: "cli-is-outermost",
      comment: "Only the CLI imports the CLI.",
      severity: "error",
      from: { pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "http-framework-in-adapters",
      comment:
        "The HTTP layer is adapters/http-app.ts (hono on @hono/node-server): only adapters import hono; main.ts mounts the doors adapters build, and core, app and the SDKs never see HTTP.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/adapters/" },
      to: { path: "(^|node_modules/)(hono|@hono/[^/]+)(/|$)" },
    },
    {
      name: "sdk-codec-has-no-io",
      comment: "The codecs the SDKs use read no files and open no sockets of their own.",
      severity: "error",
      from: { path: "^src/(sdk|codec)/" },
      to: { dependencyTypes: ["core"], path: "^(node:)?(fs|fs/promises|path|child_process|net|http|https)$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
