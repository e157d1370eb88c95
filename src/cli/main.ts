#!/usr/bin/env node
// The `vigil` command: a composition root (the only place besides src/main.ts that reads
// process.env or argv and wires adapters).
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { PolicyError, DEFAULT_POLICY_YAML } from "../core/index.js";
import { replayCommand } from "./commands/replay.js";
import { evalCommand } from "./commands/eval.js";
import { loadPolicy } from "../adapters/policy-file.js";
import { schemasRegisterCommand, startCommand, topicsCreateCommand } from "./commands/live.js";
import { demoCommand } from "./commands/demo.js";
import { keysGenerateCommand, keysJwksCommand } from "./commands/keys.js";
import { reviewDecideCommand, reviewListCommand, reviewShowCommand } from "./commands/review.js";
import { shadowCommand } from "./commands/shadow.js";
import { McpUsageError, mcpCatalogCommand, mcpCommand } from "./commands/mcp.js";
import { UpstreamConfigError } from "../adapters/mcp/upstreams.js";
import { ReviewError } from "../app/review-service.js";
import { policyFromCatalog } from "../tooling/policy-from-catalog.js";
import type { CatalogTool } from "../tooling/policy-from-catalog.js";
import { ConfigError } from "../config/config.js";
import { SigningKeyError } from "../adapters/signing.js";
import { TokenConfigError } from "../adapters/http-auth.js";
import { HttpTlsError } from "../adapters/http-server.js";

const USAGE = `vigil — continuous verification for AI agents

usage:
  vigil replay <events.jsonl>... [--policy <file>] [--out <file>] [--strict]
      Runs the live decision pipeline offline; one command per line on stdout (or --out),
      a summary on stderr. Bad lines are reported with their line number, the field and
      the reason code the live processor dead-letters them with ([output_too_large]...),
      and skipped; --strict makes them fail the run (exit 1).
  vigil eval <labelled.jsonl>... [--policy <file>] [--sessions <sidecar.jsonl>] [--json]
      Replays events carrying label: aligned|drift and prints detection figures.
  vigil start                   Runs the live processor (configuration: VIGIL_* environment
                                variables, docs/operations.md); stops gracefully on SIGTERM.
  vigil demo [--for <seconds>] [--pace <ms>] [--isolated]
                                Runs the processor on the local stack and plays the golden
                                scenarios (the expense self-approval first), printing events
                                and commands as they happen, and overturns one hold through
                                the review API; Ctrl-C stops it. Standard topics and Redis
                                prefix (watch with kcat, vigil review); each run's ids carry
                                a run tag, and its review cases are removed when it stops.
                                --isolated runs under prefixes of its own and deletes its
                                topics, groups and Redis keys after.
  vigil mcp --config <servers.json> [--listen <host:port>] [--mode enforce|monitor]
            [--principal <id>] [--agent <id>] [--goal <text>] [--hold-ms <ms>]
            [--fail closed|open] [--on-tool-change hold|report] [--jwks-url <url>]
            [--allowed-origin <origin>]... [--allowed-host <host:port>]... [--session <id>]
                                The verifying MCP gateway (docs/mcp.md): fronts the MCP server
                                of an mcpServers file; every tools/call is held until Vigil
                                has decided. Serves stdio (an MCP client spawns it) or, with
                                --listen, Streamable HTTP at /mcp. Same VIGIL_* settings as
                                vigil start.
  vigil mcp catalog --config <servers.json>
                                Prints a policy whose tool catalog is what the server lists.
  vigil topics create           Creates Vigil's topics (partitions, retention, compaction).
  vigil schemas register        Registers the Avro schemas in the schema registry.
  vigil keys generate [--out <file>]
                                Makes an Ed25519 signing key: the private JWK to <file>
                                (mode 0600, never overwritten), its public JWKS on stdout.
  vigil keys jwks               Prints the public JWKS enforcers should trust for the
                                configured signing key (docs/security.md).
  vigil shadow <events.jsonl>... --policy <candidate.yaml> [--baseline <current.yaml>] [--json] [--limit <n>]
  vigil shadow --from-topic --policy <candidate.yaml> [--baseline <current.yaml>] [--json]
                                What a policy change would change: the same events through the
                                policy in force (VIGIL_POLICY_FILE or the shipped default) and
                                the candidate; commands added, removed and changed, by reason,
                                by agent and by session (docs/policy.md).
  vigil review list [--json] [--state pending|confirmed|overturned|all]
  vigil review show <caseId> [--json]
  vigil review confirm <caseId> --by <reviewer> [--note <text>] [--revoke]
  vigil review overturn <caseId> --by <reviewer> [--note <text>]
                                The review queue (same configuration as vigil start):
                                sessions held for a person, and their verdicts
                                (docs/review.md).
  vigil policy check <file>     Validates a policy file; problems name line and field.
  vigil policy default          Prints the default policy.
  vigil policy from-catalog <tools.json>
                                Prints a policy whose tool catalog is built from a JSON list
                                of tools ({ tool, description, parameters }); review it.
  vigil --version | --help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `vigil <command> --help` prints the usage, whatever the command (options end at "--").
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (command !== undefined && (options.includes("--help") || options.includes("-h"))) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case "replay": {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { policy: { type: "string" }, out: { type: "string" }, strict: { type: "boolean" } },
      });
      if (positionals.length === 0) return usage("replay needs at least one events file");
      return replayCommand({ files: positionals, ...values });
    }
    case "eval": {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { policy: { type: "string" }, sessions: { type: "string" }, json: { type: "boolean" } },
      });
      if (positionals.length === 0) return usage("eval needs at least one labelled events file");
      return evalCommand({ files: positionals, ...values });
    }
    case "start":
      return startCommand(process.env);
    case "demo": {
      const { values } = parseArgs({ args: rest, options: { for: { type: "string" }, pace: { type: "string" }, isolated: { type: "boolean" } } });
      const forSeconds = values.for === undefined ? undefined : Number(values.for);
      if (forSeconds !== undefined && !(forSeconds > 0)) return usage("--for takes a number of seconds");
      return demoCommand(process.env, forSeconds, values.pace === undefined ? 400 : Number(values.pace), values.isolated === true);
    }
    case "mcp": {
      if (rest[0] === "catalog") {
        const { values } = parseArgs({ args: rest.slice(1), options: { config: { type: "string" } } });
        if (values.config === undefined) return usage("vigil mcp catalog needs --config <servers.json>");
        return mcpCatalogCommand(values.config);
      }
      const { values } = parseArgs({
        args: rest,
        options: {
          config: { type: "string" },
          listen: { type: "string" },
          mode: { type: "string" },
          principal: { type: "string" },
          agent: { type: "string" },
          goal: { type: "string" },
          "hold-ms": { type: "string" },
          fail: { type: "string" },
          "jwks-url": { type: "string" },
          "allowed-origin": { type: "string", multiple: true },
          "allowed-host": { type: "string", multiple: true },
          "on-tool-change": { type: "string" },
          session: { type: "string" },
        },
      });
      if (values.config === undefined) return usage("vigil mcp needs --config <servers.json> (the mcpServers file of an MCP client)");
      const mode = values.mode ?? "enforce";
      if (mode !== "enforce" && mode !== "monitor") return usage("--mode is enforce or monitor");
      const fail = values.fail ?? "closed";
      if (fail !== "closed" && fail !== "open") return usage("--fail is closed or open");
      const holdMs = values["hold-ms"] === undefined ? 5000 : Number(values["hold-ms"]);
      if (!(holdMs > 0 && holdMs <= 600_000)) return usage("--hold-ms takes a number of milliseconds, at most 600000");
      const onToolChange = values["on-tool-change"] ?? "hold";
      if (onToolChange !== "hold" && onToolChange !== "report") return usage("--on-tool-change is hold or report");
      if (values.session !== undefined && values.listen !== undefined)
        return usage("--session names the one session of a stdio gateway; over HTTP each MCP session is its own");
      return mcpCommand(process.env, {
        config: values.config,
        mode,
        failMode: fail,
        holdMs,
        onToolChange,
        principal: values.principal ?? process.env.USER ?? "unknown",
        agent: values.agent ?? "mcp-client",
        ...(values.listen !== undefined ? { listen: values.listen } : {}),
        ...(values.goal !== undefined ? { goal: values.goal } : {}),
        ...(values.session !== undefined ? { session: values.session } : {}),
        ...(values["jwks-url"] !== undefined ? { jwksUrl: values["jwks-url"] } : {}),
        ...(values["allowed-origin"] !== undefined ? { allowedOrigins: values["allowed-origin"] } : {}),
        ...(values["allowed-host"] !== undefined ? { allowedHosts: values["allowed-host"] } : {}),
      });
    }
    case "shadow": {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          policy: { type: "string" },
          baseline: { type: "string" },
          json: { type: "boolean" },
          "from-topic": { type: "boolean" },
          limit: { type: "string" },
        },
      });
      if (!values.policy) return usage("shadow needs --policy <candidate.yaml>");
      if (positionals.length === 0 && !values["from-topic"]) return usage("shadow needs events files or --from-topic");
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) return usage("--limit takes a number of sessions");
      return shadowCommand(process.env, {
        files: positionals,
        policy: values.policy,
        baseline: values.baseline,
        json: values.json,
        fromTopic: values["from-topic"],
        limit,
      });
    }
    case "review": {
      const [sub, ...args] = rest;
      if (sub === "list") {
        const { values } = parseArgs({ args, options: { json: { type: "boolean" }, state: { type: "string" } } });
        return reviewListCommand(process.env, values);
      }
      if (sub === "show") {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" } } });
        if (positionals.length !== 1) return usage("review show needs one case id");
        return reviewShowCommand(process.env, positionals[0] as string, values);
      }
      if (sub === "confirm" || sub === "overturn") {
        const { values, positionals } = parseArgs({
          args,
          allowPositionals: true,
          options: { by: { type: "string" }, note: { type: "string" }, ...(sub === "confirm" ? { revoke: { type: "boolean" } } : {}) },
        });
        if (positionals.length !== 1) return usage(`review ${sub} needs one case id`);
        return reviewDecideCommand(
          process.env,
          positionals[0] as string,
          sub === "confirm" ? "confirmed" : "overturned",
          values as { by?: string; note?: string; revoke?: boolean },
        );
      }
      return usage("review needs list, show, confirm or overturn");
    }
    case "topics":
      if (rest[0] !== "create") return usage("topics needs `create`");
      return topicsCreateCommand(process.env);
    case "schemas":
      if (rest[0] !== "register") return usage("schemas needs `register`");
      return schemasRegisterCommand(process.env);
    case "keys": {
      const [sub, ...args] = rest;
      if (sub === "jwks") return keysJwksCommand(process.env);
      if (sub !== "generate") return usage("keys needs `generate [--out <file>]` or `jwks`");
      const { values } = parseArgs({ args, options: { out: { type: "string" } } });
      return keysGenerateCommand(values.out);
    }
    case "policy": {
      const [sub, file] = rest;
      if (sub === "default") {
        process.stdout.write(DEFAULT_POLICY_YAML);
        return 0;
      }
      if (sub === "from-catalog" && file) {
        const tools = JSON.parse(readFileSync(file, "utf8")) as unknown;
        if (!Array.isArray(tools) || !tools.every((t) => typeof (t as { tool?: unknown }).tool === "string"))
          return usage(`${file}: expected a JSON list of { tool, description?, parameters? }`);
        process.stdout.write(policyFromCatalog(tools as CatalogTool[], file));
        return 0;
      }
      if (sub === "check" && file) {
        const policy = loadPolicy(file);
        process.stdout.write(
          `${file}: valid (version ${policy.version}; ${policy.tools.size} tools, ${policy.rules.length} rules, ${policy.separationOfDuties.length} SoD pairs, ${policy.sequences.length} sequences)\n`,
        );
        return 0;
      }
      return usage("policy needs `check <file>`, `from-catalog <tools.json>` or `default`");
    }
    case "--version":
    case "-v": {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(USAGE);
      return 0;
    default:
      return usage(`unknown command: ${command}`);
  }
}

function usage(message: string): number {
  process.stderr.write(`vigil: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // An unknown option, a missing option value or a stray argument: a usage error, not a crash.
    if (error instanceof Error && "code" in error && String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS_")) {
      process.exitCode = usage(error.message.replace(/\. To specify a positional argument.*$/s, ""));
      return;
    }
    if (error instanceof ReviewError) {
      process.stderr.write(`vigil: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    // A configuration error, whoever finds it (loadConfig, or the reader of a token, key, certificate or policy file): its message names the variable.
    const configuration =
      error instanceof PolicyError ||
      error instanceof ConfigError ||
      error instanceof SigningKeyError ||
      error instanceof TokenConfigError ||
      error instanceof HttpTlsError ||
      error instanceof UpstreamConfigError ||
      error instanceof McpUsageError;
    const code = error instanceof Error && "code" in error ? String((error as NodeJS.ErrnoException).code) : undefined;
    if (configuration) process.stderr.write(`vigil: ${error.message}\n`);
    else if (code === "ENOENT") process.stderr.write(`vigil: ${(error as Error).message}\n`);
    else if ((code === "EADDRINUSE" || code === "EACCES") && (error as NodeJS.ErrnoException).syscall === "listen") {
      const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
      process.stderr.write(
        `vigil: cannot listen on ${e.address ?? "?"}:${e.port ?? "?"} (VIGIL_HTTP_HOST, VIGIL_HTTP_PORT): ${code === "EADDRINUSE" ? "the port is in use" : "permission denied"}\n`,
      );
    } else process.stderr.write(`vigil: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = configuration ? 2 : 1;
    // A command that failed half-way may leave a client holding the event loop (kafkajs retrying a consumer it started): exit anyway.
    setTimeout(() => process.exit(), 5000).unref();
  },
);
