import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

describe("loadConfig", () => {
  it("gives the documented defaults for an empty environment", () => {
    const c = loadConfig({});
    expect(c.kafka.brokers).toEqual(["127.0.0.1:9092"]);
    expect(c.topics.events).toBe("vigil.events");
    expect(c.outputFormat).toBe("json");
    expect(c.http).toEqual({ host: "127.0.0.1", port: 9464, tls: undefined });
    expect(c.ssf).toBeUndefined();
  });

  it("names every bad variable and the value it got", () => {
    expect(() => loadConfig({ VIGIL_KAFKA_BROKERS: "nope", VIGIL_HTTP_PORT: "abc", VIGIL_LOG_LEVEL: "loud" })).toThrow(
      /VIGIL_KAFKA_BROKERS\.0: host:port \(got "nope"\)[\s\S]*VIGIL_HTTP_PORT: expected number, received NaN \(got "abc"\)[\s\S]*VIGIL_LOG_LEVEL/,
    );
  });

  it("rejects an unknown VIGIL_ variable (a typo must not silently fall back to a default)", () => {
    expect(() => loadConfig({ VIGIL_KAFKA_BROKER: "kafka:9092" })).toThrow(/VIGIL_KAFKA_BROKER: unknown variable/);
    expect(() => loadConfig({ VIGIL_STACK_KEEP: "1" })).not.toThrow();
  });

  it("needs credentials with SASL and a registry for Avro output", () => {
    expect(() => loadConfig({ VIGIL_KAFKA_SASL_MECHANISM: "scram-sha-512" })).toThrow(ConfigError);
    expect(() => loadConfig({ VIGIL_OUTPUT_FORMAT: "avro" })).toThrow(/needs VIGIL_REGISTRY_URL/);
    const c = loadConfig({ VIGIL_KAFKA_SASL_MECHANISM: "plain", VIGIL_KAFKA_SASL_USERNAME: "u", VIGIL_KAFKA_SASL_PASSWORD: "p", VIGIL_KAFKA_SSL: "true" });
    expect(c.kafka.sasl).toEqual({ mechanism: "plain", username: "u", password: "p" });
    expect(c.kafka.ssl).toEqual({ rejectUnauthorized: true });
  });

  it("SSF needs an issuer origin with receivers; HTTPS needs a certificate and key; certificate reviewers need a client CA", () => {
    expect(() => loadConfig({ VIGIL_SSF_RECEIVERS: "idp:0123456789abcdef" })).toThrow(/VIGIL_SSF_ISSUER: required with VIGIL_SSF_RECEIVERS/);
    expect(() => loadConfig({ VIGIL_SSF_RECEIVERS: "idp:0123456789abcdef", VIGIL_SSF_ISSUER: "https://vigil.example/x" })).toThrow(
      /VIGIL_SSF_ISSUER: an http\(s\) origin, no path/,
    );
    const c = loadConfig({ VIGIL_SSF_RECEIVERS: "idp:0123456789abcdef", VIGIL_SSF_ISSUER: "https://vigil.example/", VIGIL_SSF_RETRY_MAX_MS: "10" });
    expect(c.ssf).toMatchObject({ issuer: "https://vigil.example", limits: { retryBaseMs: 1000, retryMaxMs: 1000, maxQueuedPerStream: 100_000 } });
    expect(() => loadConfig({ VIGIL_HTTP_TLS_CERT_FILE: "c.pem" })).toThrow(/give both or neither/);
    expect(() => loadConfig({ VIGIL_HTTP_TLS_CLIENT_CA_FILE: "ca.pem" })).toThrow(/client certificates need HTTPS/);
    expect(() => loadConfig({ VIGIL_HTTP_TLS_CERT_FILE: "c.pem", VIGIL_HTTP_TLS_KEY_FILE: "k.pem", VIGIL_REVIEW_MTLS_SUBJECTS: "alice" })).toThrow(
      /VIGIL_REVIEW_MTLS_SUBJECTS: needs VIGIL_HTTP_TLS_CLIENT_CA_FILE/,
    );
  });

  it("reads VIGIL_CONFIG_FILE, the environment winning; a bad line names file and line", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
    const file = join(dir, "vigil.env");
    writeFileSync(file, "# Vigil\nVIGIL_TOPIC_PREFIX=prod.\nVIGIL_GROUP_ID='from-file'\n");
    const c = loadConfig({ VIGIL_CONFIG_FILE: file, VIGIL_GROUP_ID: "from-env" });
    expect(c.topics.commands).toBe("prod.vigil.commands");
    expect(c.kafka.groupId).toBe("from-env");
    writeFileSync(file, "VIGIL_TOPIC_PREFIX=prod.\nthis is not config\n");
    expect(() => loadConfig({ VIGIL_CONFIG_FILE: file })).toThrow(`${file}:2: expected KEY=VALUE`);
  });
});

describe("a configuration error is one clean line naming the variable", () => {
  const oneLine = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error(`no error for ${JSON.stringify(env)}`);
  };

  it("a VIGIL_SSF_RECEIVERS or VIGIL_REVIEW_TOKENS token under 16 characters is refused by loadConfig, without echoing the token", () => {
    const ssf = oneLine({ VIGIL_SSF_RECEIVERS: "idp:tooshort", VIGIL_SSF_ISSUER: "https://vigil.example/" });
    expect(ssf).toBe("invalid configuration: VIGIL_SSF_RECEIVERS: entry 1: expected name:token with a token of at least 16 characters");
    // Receivers' names may be URLs (split at the last colon), and every entry is checked.
    const second = oneLine({ VIGIL_SSF_RECEIVERS: "https://idp.example:0123456789abcdef,other:short", VIGIL_SSF_ISSUER: "https://vigil.example/" });
    expect(second).toMatch(/^invalid configuration: VIGIL_SSF_RECEIVERS: entry 2: /);
    expect(second).not.toContain("short");
    const review = oneLine({ VIGIL_REVIEW_TOKENS: "alice:0123456789abcdef, bob:secret" });
    expect(review).toBe("invalid configuration: VIGIL_REVIEW_TOKENS: entry 2: expected name:token with a token of at least 16 characters");
    expect(review).not.toContain("secret");
    expect(() =>
      loadConfig({
        VIGIL_REVIEW_TOKENS: "alice:0123456789abcdef,",
        VIGIL_SSF_RECEIVERS: "https://idp.example:0123456789abcdef",
        VIGIL_SSF_ISSUER: "https://v.example",
      }),
    ).not.toThrow();
  });

  it("every single problem is one line: invalid values, unknown variables, missing companions, unreadable files", () => {
    const missing = join(mkdtempSync(join(tmpdir(), "vigil-config-")), "nope.pem");
    const cases: [Record<string, string>, RegExp][] = [
      [{ VIGIL_HTTP_PORT: "abc" }, /^invalid configuration: VIGIL_HTTP_PORT: /],
      [{ VIGIL_KAFKA_BROKER: "kafka:9092" }, /^invalid configuration: VIGIL_KAFKA_BROKER: unknown variable/],
      [{ VIGIL_OUTPUT_FORMAT: "avro" }, /^invalid configuration: VIGIL_OUTPUT_FORMAT: avro needs VIGIL_REGISTRY_URL$/],
      [{ VIGIL_KAFKA_SASL_MECHANISM: "plain" }, /^invalid configuration: VIGIL_KAFKA_SASL_USERNAME \/ VIGIL_KAFKA_SASL_PASSWORD: /],
      [{ VIGIL_HTTP_TLS_CERT_FILE: "c.pem" }, /^invalid configuration: VIGIL_HTTP_TLS_CERT_FILE \/ VIGIL_HTTP_TLS_KEY_FILE: give both or neither$/],
      [{ VIGIL_SSF_RECEIVERS: "idp:0123456789abcdef" }, /^invalid configuration: VIGIL_SSF_ISSUER: required with VIGIL_SSF_RECEIVERS/],
      [{ VIGIL_KAFKA_SSL: "true", VIGIL_KAFKA_SSL_CA_FILE: missing }, /^invalid configuration: VIGIL_KAFKA_SSL_CA_FILE: cannot read .*nope\.pem/],
      [{ VIGIL_CONFIG_FILE: missing }, /^invalid configuration: VIGIL_CONFIG_FILE: cannot read .*nope\.pem/],
    ];
    for (const [env, want] of cases) {
      const message = oneLine(env);
      expect(message).toMatch(want);
      expect(message).not.toContain("\n");
    }
    // Several problems: one line each, under one heading.
    expect(oneLine({ VIGIL_HTTP_PORT: "abc", VIGIL_LOG_LEVEL: "loud" }).split("\n")).toHaveLength(3);
  });
});
