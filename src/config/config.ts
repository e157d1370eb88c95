import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";

// Configuration is one zod schema (docs/style.md, rule 10): loose environment strings →
// defaults → the compiled form. loadConfig takes the environment as a parameter; only the
// composition roots pass process.env. Every variable is listed in docs/operations.md.

const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/**
 * `name:token` pairs, comma separated, split at the first colon (names without one) or the
 * last (names may be URLs): each names someone and holds a token of at least 16 characters.
 * The same rule the token readers apply (adapters/http-auth.ts), checked here so a bad inline
 * value stops a command before it connects to anything; the message never echoes a token.
 */
const MIN_TOKEN = 16;
const tokenPairs = (split: "first" | "last") =>
  z.string().superRefine((value, ctx) => {
    value.split(",").forEach((pair, i) => {
      if (pair.trim() === "") return;
      const at = split === "first" ? pair.indexOf(":") : pair.lastIndexOf(":");
      if (at <= 0 || pair.slice(0, at).trim() === "" || pair.slice(at + 1).trim().length < MIN_TOKEN)
        ctx.addIssue({ code: "custom", message: `entry ${i + 1}: expected name:token with a token of at least ${MIN_TOKEN} characters` });
    });
  });
/**
 * What the SSF transmitter signs Security Event Tokens with (VIGIL_SSF_SIGNING_ALG). ES256 first:
 * Nimbus JOSE+JWT, the JOSE library of most Java receivers, selects no Ed25519 key from a JWKS,
 * so an EdDSA SET fails there (docs/ssf.md).
 */
export const SSF_SIGNING_ALGS = ["ES256", "RS256", "EdDSA"] as const;
export type SsfSigningAlg = (typeof SSF_SIGNING_ALGS)[number];
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== ""),
);

export const ENV_SCHEMA = z.strictObject({
  VIGIL_KAFKA_BROKERS: list.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, "host:port")).min(1)).default(["127.0.0.1:9092"]),
  VIGIL_KAFKA_CLIENT_ID: z.string().min(1).default("vigil"),
  VIGIL_GROUP_ID: z.string().min(1).default("vigil-processor"),
  VIGIL_KAFKA_SSL: bool.default(false),
  VIGIL_KAFKA_SSL_CA_FILE: z.string().optional(),
  VIGIL_KAFKA_SSL_REJECT_UNAUTHORIZED: bool.default(true),
  VIGIL_KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  VIGIL_KAFKA_SASL_USERNAME: z.string().optional(),
  VIGIL_KAFKA_SASL_PASSWORD: z.string().optional(),
  VIGIL_KAFKA_SESSION_TIMEOUT_MS: int(6000, 300_000).default(30_000),
  VIGIL_FETCH_MAX_BYTES_PER_PARTITION: int(1024, 256 * 1024 * 1024).default(1024 * 1024),
  VIGIL_TOPIC_PREFIX: z.string().default(""),
  VIGIL_TOPIC_PARTITIONS: int(1, 10_000).default(6),
  VIGIL_TOPIC_REPLICATION: int(1, 10).default(1),
  VIGIL_CREATE_TOPICS: bool.default(true),
  VIGIL_MAX_MESSAGE_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  VIGIL_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
  VIGIL_REDIS_CLUSTER: list.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, "host:port")).min(1)).optional(),
  VIGIL_REDIS_PREFIX: z.string().default("vigil:"),
  VIGIL_SESSION_TTL_SECONDS: int(60, 365 * 86400).default(7 * 86400),
  VIGIL_HOT_IDLE_SECONDS: int(1, 7 * 86400).default(600),
  VIGIL_REGISTRY_URL: z.url().optional(),
  VIGIL_OUTPUT_FORMAT: z.enum(["json", "avro"]).optional(),
  VIGIL_POLICY_FILE: z.string().optional(),
  VIGIL_POLICY_POLL_MS: int(100, 3_600_000).default(2000),
  VIGIL_HTTP_HOST: z.string().default("127.0.0.1"),
  VIGIL_HTTP_PORT: int(0, 65535).default(9464),
  VIGIL_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  VIGIL_JUDGE_URL: z.url().optional(),
  VIGIL_JUDGE_MODEL: z.string().min(1).default("gpt-4o-mini"),
  VIGIL_JUDGE_API_KEY: z.string().optional(),
  VIGIL_JUDGE_TIMEOUT_MS: int(100, 120_000).default(5000),
  VIGIL_SIGNING_KEY: z.string().optional(),
  VIGIL_SIGNING_KEY_FILE: z.string().min(1).default(".vigil/signing-key.jwk"),
  VIGIL_SIGNING_PUBLIC_KEYS_FILE: z.string().optional(),
  VIGIL_PRODUCER_KEYS_FILE: z.string().optional(),
  VIGIL_REVIEW_TOKENS: tokenPairs("first").optional(),
  VIGIL_REVIEW_TOKENS_FILE: z.string().optional(),
  /** `vigil mcp --listen`: bearer tokens of MCP clients, `<principal>/<agent>:<token>` (docs/mcp.md). */
  VIGIL_MCP_TOKENS: tokenPairs("first").optional(),
  VIGIL_MCP_TOKENS_FILE: z.string().optional(),
  /** The doors for enforcement points (AuthZEN, the event intake, OTLP traces; docs/doors.md): `name:token` pairs. */
  VIGIL_PEP_TOKENS: tokenPairs("first").optional(),
  VIGIL_PEP_TOKENS_FILE: z.string().optional(),
  VIGIL_PEP_MTLS_SUBJECTS: list.optional(),
  /** Requests per second per enforcement point on the doors (a burst of twice that), then 429. */
  VIGIL_PEP_RATE: int(1, 1_000_000).default(200),
  /** How long an AuthZEN evaluation waits for Vigil's decision, and what it answers without one. */
  VIGIL_PEP_HOLD_MS: int(10, 600_000).default(3000),
  VIGIL_PEP_FAIL: z.enum(["closed", "open"]).default("closed"),
  VIGIL_HTTP_TLS_CERT_FILE: z.string().optional(),
  VIGIL_HTTP_TLS_KEY_FILE: z.string().optional(),
  VIGIL_HTTP_TLS_CLIENT_CA_FILE: z.string().optional(),
  VIGIL_REVIEW_MTLS_SUBJECTS: list.optional(),
  VIGIL_SSF_ISSUER: z
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol) && new URL(u).pathname === "/" && !new URL(u).search, "an http(s) origin, no path")
    .optional(),
  VIGIL_SSF_RECEIVERS: tokenPairs("last").optional(),
  VIGIL_SSF_RECEIVERS_FILE: z.string().optional(),
  VIGIL_SSF_PRINCIPAL_ISSUER: z.string().min(1).optional(),
  VIGIL_SSF_PUSH_URL_PREFIXES: list.optional(),
  VIGIL_SSF_MAX_STREAMS_PER_RECEIVER: int(1, 1000).default(8),
  VIGIL_SSF_MAX_QUEUED: int(1, 10_000_000).default(100_000),
  VIGIL_SSF_RETRY_BASE_MS: int(10, 3_600_000).default(1000),
  VIGIL_SSF_RETRY_MAX_MS: int(10, 86_400_000).default(300_000),
  VIGIL_SSF_PUSH_TIMEOUT_MS: int(100, 120_000).default(10_000),
  VIGIL_SSF_MIN_VERIFICATION_INTERVAL_SECONDS: int(0, 86_400).default(30),
  VIGIL_SSF_LONG_POLL_MS: int(0, 60_000).default(10_000),
  VIGIL_SSF_SIGNING_ALG: z.enum(SSF_SIGNING_ALGS, { error: "ES256, RS256 or EdDSA" }).default("ES256"),
  VIGIL_SSF_SIGNING_KEY: z.string().optional(),
  VIGIL_SSF_SIGNING_KEY_FILE: z.string().min(1).optional(),
});

/** The optional judge's settings (off without VIGIL_JUDGE_URL); also read by `vigil replay` and `vigil eval`. */
export const judgeSettings = (
  e: Pick<z.infer<typeof ENV_SCHEMA>, "VIGIL_JUDGE_URL" | "VIGIL_JUDGE_MODEL" | "VIGIL_JUDGE_API_KEY" | "VIGIL_JUDGE_TIMEOUT_MS">,
) =>
  e.VIGIL_JUDGE_URL
    ? {
        url: e.VIGIL_JUDGE_URL,
        model: e.VIGIL_JUDGE_MODEL,
        ...(e.VIGIL_JUDGE_API_KEY ? { apiKey: e.VIGIL_JUDGE_API_KEY } : {}),
        timeoutMs: e.VIGIL_JUDGE_TIMEOUT_MS,
      }
    : undefined;

export type JudgeSettings = NonNullable<ReturnType<typeof judgeSettings>>;

/** Reads only the VIGIL_JUDGE_* variables (for the offline commands, which need nothing else). */
export function loadJudgeSettings(env: Readonly<Record<string, string | undefined>>): JudgeSettings | undefined {
  const picked = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("VIGIL_JUDGE_") && v !== undefined && v !== ""));
  const parsed = ENV_SCHEMA.pick({ VIGIL_JUDGE_URL: true, VIGIL_JUDGE_MODEL: true, VIGIL_JUDGE_API_KEY: true, VIGIL_JUDGE_TIMEOUT_MS: true })
    .strict()
    .safeParse(picked);
  if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  return judgeSettings(parsed.data);
}

export type Config = ReturnType<typeof compile>;

function compile(e: z.infer<typeof ENV_SCHEMA>) {
  const topic = (name: string) => `${e.VIGIL_TOPIC_PREFIX}${name}`;
  const sasl = e.VIGIL_KAFKA_SASL_MECHANISM
    ? { mechanism: e.VIGIL_KAFKA_SASL_MECHANISM, username: e.VIGIL_KAFKA_SASL_USERNAME ?? "", password: e.VIGIL_KAFKA_SASL_PASSWORD ?? "" }
    : undefined;
  return {
    kafka: {
      brokers: e.VIGIL_KAFKA_BROKERS,
      clientId: e.VIGIL_KAFKA_CLIENT_ID,
      groupId: e.VIGIL_GROUP_ID,
      ssl: e.VIGIL_KAFKA_SSL
        ? {
            rejectUnauthorized: e.VIGIL_KAFKA_SSL_REJECT_UNAUTHORIZED,
            ...(e.VIGIL_KAFKA_SSL_CA_FILE ? { ca: [readNamedFile("VIGIL_KAFKA_SSL_CA_FILE", e.VIGIL_KAFKA_SSL_CA_FILE)] } : {}),
          }
        : undefined,
      sasl,
      sessionTimeoutMs: e.VIGIL_KAFKA_SESSION_TIMEOUT_MS,
      fetchMaxBytesPerPartition: e.VIGIL_FETCH_MAX_BYTES_PER_PARTITION,
    },
    topics: {
      prefix: e.VIGIL_TOPIC_PREFIX,
      events: topic("vigil.events"),
      commands: topic("vigil.commands"),
      sessionStatus: topic("vigil.session-status"),
      audit: topic("vigil.audit"),
      dlq: topic("vigil.events.dlq"),
      acks: topic("vigil.acks"),
      reviews: topic("vigil.reviews"),
      partitions: e.VIGIL_TOPIC_PARTITIONS,
      replication: e.VIGIL_TOPIC_REPLICATION,
      create: e.VIGIL_CREATE_TOPICS,
    },
    maxMessageBytes: e.VIGIL_MAX_MESSAGE_BYTES,
    redis: {
      url: e.VIGIL_REDIS_URL,
      /** Redis Cluster seed nodes (host:port); when set, state goes to the cluster and VIGIL_REDIS_URL gives only credentials and TLS. */
      cluster: e.VIGIL_REDIS_CLUSTER,
      prefix: e.VIGIL_REDIS_PREFIX,
      sessionTtlSeconds: e.VIGIL_SESSION_TTL_SECONDS,
    },
    /** A session in the processor's memory not written for this long is dropped from it (Redis still has it). */
    hotIdleSeconds: e.VIGIL_HOT_IDLE_SECONDS,
    registryUrl: e.VIGIL_REGISTRY_URL,
    outputFormat: e.VIGIL_OUTPUT_FORMAT ?? (e.VIGIL_REGISTRY_URL ? "avro" : "json"),
    policyFile: e.VIGIL_POLICY_FILE,
    policyPollMs: e.VIGIL_POLICY_POLL_MS,
    http: {
      host: e.VIGIL_HTTP_HOST,
      port: e.VIGIL_HTTP_PORT,
      /** HTTPS with this certificate and key; with a client CA, client certificates are asked for and verified against it (never required: see reviewMtlsSubjects). */
      tls: e.VIGIL_HTTP_TLS_CERT_FILE
        ? { certFile: e.VIGIL_HTTP_TLS_CERT_FILE, keyFile: e.VIGIL_HTTP_TLS_KEY_FILE as string, clientCaFile: e.VIGIL_HTTP_TLS_CLIENT_CA_FILE }
        : undefined,
    },
    logLevel: e.VIGIL_LOG_LEVEL,
    judge: judgeSettings(e),
    signing: { key: e.VIGIL_SIGNING_KEY, keyFile: e.VIGIL_SIGNING_KEY_FILE, publicKeysFile: e.VIGIL_SIGNING_PUBLIC_KEYS_FILE },
    producerKeysFile: e.VIGIL_PRODUCER_KEYS_FILE,
    /** Reviewers of the HTTP review API: `name:token` pairs, inline (comma separated) and/or one per line in a file. */
    reviewTokens: { inline: e.VIGIL_REVIEW_TOKENS, file: e.VIGIL_REVIEW_TOKENS_FILE },
    mcpTokens: { inline: e.VIGIL_MCP_TOKENS, file: e.VIGIL_MCP_TOKENS_FILE },
    /** Enforcement points of the HTTP doors (AuthZEN, /v1/events, /v1/traces): tokens, certificate subjects, rate, hold. */
    peps: {
      tokens: { inline: e.VIGIL_PEP_TOKENS, file: e.VIGIL_PEP_TOKENS_FILE },
      mtlsSubjects: e.VIGIL_PEP_MTLS_SUBJECTS ?? [],
      perSecond: e.VIGIL_PEP_RATE,
      holdMs: e.VIGIL_PEP_HOLD_MS,
      failMode: e.VIGIL_PEP_FAIL,
    },
    /** Reviewers known by a client certificate (its subject CN) verified against VIGIL_HTTP_TLS_CLIENT_CA_FILE; the CN is the reviewer's name. */
    reviewMtlsSubjects: e.VIGIL_REVIEW_MTLS_SUBJECTS ?? [],
    /** The SSF transmitter (docs/ssf.md): on when receivers are configured. */
    ssf:
      e.VIGIL_SSF_RECEIVERS || e.VIGIL_SSF_RECEIVERS_FILE
        ? {
            issuer: (e.VIGIL_SSF_ISSUER as string).replace(/\/+$/, ""),
            receivers: { inline: e.VIGIL_SSF_RECEIVERS, file: e.VIGIL_SSF_RECEIVERS_FILE },
            principalIssuer: e.VIGIL_SSF_PRINCIPAL_ISSUER,
            pushTimeoutMs: e.VIGIL_SSF_PUSH_TIMEOUT_MS,
            /**
             * The SETs' key: VIGIL_SSF_SIGNING_KEY[_FILE] when given, else the record key when it signs
             * with this algorithm, else a key of its own in `defaultKeyFile`, beside the record key's file
             * (adapters/signing.ts).
             */
            signing: {
              alg: e.VIGIL_SSF_SIGNING_ALG,
              key: e.VIGIL_SSF_SIGNING_KEY,
              keyFile: e.VIGIL_SSF_SIGNING_KEY_FILE,
              defaultKeyFile: join(dirname(e.VIGIL_SIGNING_KEY_FILE), `ssf-signing-key-${e.VIGIL_SSF_SIGNING_ALG.toLowerCase()}.jwk`),
            },
            limits: {
              maxStreamsPerReceiver: e.VIGIL_SSF_MAX_STREAMS_PER_RECEIVER,
              maxQueuedPerStream: e.VIGIL_SSF_MAX_QUEUED,
              retryBaseMs: e.VIGIL_SSF_RETRY_BASE_MS,
              retryMaxMs: Math.max(e.VIGIL_SSF_RETRY_BASE_MS, e.VIGIL_SSF_RETRY_MAX_MS),
              minVerificationIntervalSeconds: e.VIGIL_SSF_MIN_VERIFICATION_INTERVAL_SECONDS,
              longPollMs: e.VIGIL_SSF_LONG_POLL_MS,
              pushBatch: 50,
              pushUrlPrefixes: e.VIGIL_SSF_PUSH_URL_PREFIXES ?? [],
            },
          }
        : undefined,
  } as const;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly retriable = false;
}

/** One problem: one line, `invalid configuration: VARIABLE: what is wrong`; several: one line each under that heading. */
function invalid(problems: readonly string[]): ConfigError {
  return new ConfigError(
    problems.length === 1 ? `invalid configuration: ${problems[0]}` : `invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`,
  );
}

/** A file a variable names, read now; unreadable: a ConfigError naming the variable. */
function readNamedFile(variable: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw invalid([`${variable}: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`]);
  }
}

/** Values never echoed in an error: credentials. */
const SECRET = new Set([
  "VIGIL_KAFKA_SASL_PASSWORD",
  "VIGIL_JUDGE_API_KEY",
  "VIGIL_SIGNING_KEY",
  "VIGIL_REVIEW_TOKENS",
  "VIGIL_MCP_TOKENS",
  "VIGIL_PEP_TOKENS",
  "VIGIL_SSF_RECEIVERS",
  "VIGIL_SSF_SIGNING_KEY",
]);

/** `KEY=VALUE` lines (comments with #, optional quotes); a malformed line is an error naming file and line. */
export function readConfigFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of readNamedFile("VIGIL_CONFIG_FILE", path).split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw invalid([`VIGIL_CONFIG_FILE ${path}:${i + 1}: expected KEY=VALUE, got "${line}"`]);
    out[m[1] as string] = (m[2] as string).replace(/^"(.*)"$|^'(.*)'$/, "$1$2");
  }
  return out;
}

/**
 * Reads configuration from an environment map, and from the file VIGIL_CONFIG_FILE names
 * (the environment wins). Throws ConfigError naming each bad variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>) {
  const fromFile = env.VIGIL_CONFIG_FILE ? readConfigFile(env.VIGIL_CONFIG_FILE) : {};
  const merged = { ...fromFile, ...env };
  const present = Object.fromEntries(
    Object.entries(merged).filter(
      ([k, v]) =>
        k.startsWith("VIGIL_") && k !== "VIGIL_CONFIG_FILE" && !k.startsWith("VIGIL_STACK_") && !k.startsWith("VIGIL_BENCH") && v !== undefined && v !== "",
    ),
  );
  const parsed = ENV_SCHEMA.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      if (i.code === "unrecognized_keys") return `${i.keys.join(", ")}: unknown variable (a typo? see docs/operations.md)`;
      const variable = String(i.path[0] ?? "");
      const got = present[variable] !== undefined && !SECRET.has(variable) ? ` (got "${present[variable]}")` : "";
      return `${i.path.join(".")}: ${i.message.replace(/^Invalid input: /, "")}${got}`;
    });
    throw invalid(lines);
  }
  if (parsed.data.VIGIL_OUTPUT_FORMAT === "avro" && !parsed.data.VIGIL_REGISTRY_URL) {
    throw invalid(["VIGIL_OUTPUT_FORMAT: avro needs VIGIL_REGISTRY_URL"]);
  }
  const d = parsed.data;
  if (Boolean(d.VIGIL_HTTP_TLS_CERT_FILE) !== Boolean(d.VIGIL_HTTP_TLS_KEY_FILE)) {
    throw invalid(["VIGIL_HTTP_TLS_CERT_FILE / VIGIL_HTTP_TLS_KEY_FILE: give both or neither"]);
  }
  if (d.VIGIL_HTTP_TLS_CLIENT_CA_FILE && !d.VIGIL_HTTP_TLS_CERT_FILE) {
    throw invalid(["VIGIL_HTTP_TLS_CLIENT_CA_FILE: needs VIGIL_HTTP_TLS_CERT_FILE and VIGIL_HTTP_TLS_KEY_FILE (client certificates need HTTPS)"]);
  }
  if (d.VIGIL_REVIEW_MTLS_SUBJECTS && d.VIGIL_REVIEW_MTLS_SUBJECTS.length > 0 && !d.VIGIL_HTTP_TLS_CLIENT_CA_FILE) {
    throw invalid(["VIGIL_REVIEW_MTLS_SUBJECTS: needs VIGIL_HTTP_TLS_CLIENT_CA_FILE (the CA that issues reviewers' client certificates)"]);
  }
  if (d.VIGIL_PEP_MTLS_SUBJECTS && d.VIGIL_PEP_MTLS_SUBJECTS.length > 0 && !d.VIGIL_HTTP_TLS_CLIENT_CA_FILE) {
    throw invalid(["VIGIL_PEP_MTLS_SUBJECTS: needs VIGIL_HTTP_TLS_CLIENT_CA_FILE (the CA that issues enforcement points' client certificates)"]);
  }
  if ((parsed.data.VIGIL_SSF_RECEIVERS || parsed.data.VIGIL_SSF_RECEIVERS_FILE) && !parsed.data.VIGIL_SSF_ISSUER) {
    throw invalid(["VIGIL_SSF_ISSUER: required with VIGIL_SSF_RECEIVERS (the URL receivers reach this processor at; the SETs' iss)"]);
  }
  if (parsed.data.VIGIL_KAFKA_SASL_MECHANISM && (!parsed.data.VIGIL_KAFKA_SASL_USERNAME || !parsed.data.VIGIL_KAFKA_SASL_PASSWORD)) {
    throw invalid(["VIGIL_KAFKA_SASL_USERNAME / VIGIL_KAFKA_SASL_PASSWORD: required with VIGIL_KAFKA_SASL_MECHANISM"]);
  }
  return compile(parsed.data);
}
