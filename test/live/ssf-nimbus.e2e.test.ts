import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { SsfSigningAlg } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { DELIVERY_POLL, DELIVERY_PUSH, SSF_VERIFICATION_EVENT } from "../../src/protocol/ssf.js";
import { repoRoot } from "../support/stack-env.js";
import { freePort, isolatedEnv, metric, produce, readAll, untilProcessed } from "../support/live.js";

// Vigil's SETs in a Java receiver built on Nimbus JOSE+JWT (test/interop/nimbus), the JOSE
// library most Java identity products verify with: it reads the SSF metadata and the JWKS,
// takes pushed SETs (RFC 8935) and polls a stream (RFC 8936), and verifies each with Nimbus's
// DefaultJWTProcessor, the key chosen from the JWKS by kid and alg. The processor's record key
// stays the default Ed25519 one, so the JWKS holds an Ed25519 key every time.
//   - ES256 (the default) and RS256: every SET, pushed and polled, verifies;
//   - EdDSA (the control, and the reason for the default): Nimbus selects no key for any of
//     them, answers 400 to each push and reports each polled one in setErrs, and Vigil drops
//     them instead of retrying.

const RECEIVER = "https://nimbus-receiver.example";
const TOKEN = "nimbus-receiver-token-0123456789";
const PUSH_AUTHORIZATION = "Bearer from-vigil-to-nimbus";
const project = join(repoRoot, "test", "interop", "nimbus");
const stories = ["expense-self-approval.jsonl", "exfiltration.jsonl"].flatMap((f) =>
  readFileSync(join(repoRoot, "examples", "scenarios", f), "utf8")
    .split("\n")
    .filter(Boolean),
);

interface Summary {
  readonly complete: boolean;
  readonly jwks: { kid: string; kty: string; alg: string | null }[];
  readonly javaKeys: number;
  readonly pushed: { verified: number; rejected: number };
  readonly polled: { verified: number; rejected: number };
  readonly verified: number;
  readonly rejected: number;
  readonly algs: Record<string, number>;
  readonly events: Record<string, number>;
  /** The verified SETs' txn claims (their commands' ids), as `push:<txn>` and `poll:<txn>`. */
  readonly txns: string[];
  readonly errors: Record<string, number>;
}

/** The receiver's stdout, a JSON object a line, read as it comes. */
function lines(child: ChildProcessWithoutNullStreams) {
  const seen: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    seen.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiting.splice(0)) wake();
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  let exited = false;
  child.on("exit", () => {
    exited = true;
    for (const wake of waiting.splice(0)) wake();
  });
  return async (has: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = seen.find((l) => has in l);
      if (found) return found;
      if (exited || Date.now() > deadline)
        throw new Error(
          `the Nimbus receiver printed no "${has}" line (${exited ? `exited ${child.exitCode}` : "timed out"})\nstdout: ${JSON.stringify(seen)}\nstderr: ${stderr}`,
        );
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
}

let classpath = "";

/** One processor signing SETs with `alg`, one Nimbus receiver with a push and a poll stream; its summary and the processor's delivery counts. */
async function nimbusAgainst(alg: SsfSigningAlg) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = isolatedEnv(`ssf-nimbus-${alg.toLowerCase()}`, {
    VIGIL_HTTP_PORT: String(port),
    // A fresh key directory: the default Ed25519 record key, and the SSF key made beside it.
    VIGIL_SIGNING_KEY_FILE: join(mkdtempSync(join(tmpdir(), "vigil-ssf-nimbus-")), "signing-key.jwk"),
    VIGIL_SSF_ISSUER: issuer,
    VIGIL_SSF_RECEIVERS: `${RECEIVER}:${TOKEN}`,
    VIGIL_SSF_SIGNING_ALG: alg,
    VIGIL_SSF_RETRY_BASE_MS: "100",
    VIGIL_SSF_RETRY_MAX_MS: "400",
  });
  const config = loadConfig(env);
  const running: Running = await startVigil(env);
  let java: ChildProcessWithoutNullStreams | undefined;
  try {
    const call = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${issuer}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    };
    java = spawn(
      "java",
      [
        "-cp",
        classpath,
        "dev.vigil.interop.NimbusReceiver",
        "--issuer",
        issuer,
        "--audience",
        RECEIVER,
        "--token",
        TOKEN,
        "--push-authorization",
        PUSH_AUTHORIZATION,
        "--timeout-ms",
        "60000",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const next = lines(java);
    const endpoint = (await next("listening", 30_000)).listening as string;

    const push = await call<{ stream_id: string }>("/ssf/stream", {
      delivery: { method: DELIVERY_PUSH, endpoint_url: endpoint, authorization_header: PUSH_AUTHORIZATION },
    });
    const poll = await call<{ stream_id: string; delivery: { endpoint_url: string } }>("/ssf/stream", { delivery: { method: DELIVERY_POLL } });
    // The SETs: a verification event on each stream, then one per command of the stories.
    await call("/ssf/verify", { stream_id: push.stream_id, state: "nimbus" });
    await call("/ssf/verify", { stream_id: poll.stream_id, state: "nimbus" });
    await produce(
      config.topics.events,
      stories.map((value) => ({ key: (JSON.parse(value) as { sessionId: string }).sessionId, value })),
    );
    await untilProcessed(config.kafka.groupId, config.topics.events);
    await untilProcessed(`${config.kafka.groupId}-ssf`, config.topics.commands);
    const commandIds = (await readAll(config.topics.commands)).map((m) => String(m.headers["vigil.command.id"]));
    expect(commandIds.length).toBeGreaterThanOrEqual(3);
    const expected = commandIds.length + 1;

    java.stdin.end(`${JSON.stringify({ pollUrl: poll.delivery.endpoint_url, pushed: expected, polled: expected })}\n`);
    const summary = (await next("summary", 90_000)) as unknown as Summary;
    // The processor counts a push once the receiver's answer is in: it may trail the summary a little.
    const delivered = async (outcome: string) => {
      const n = await metric(port, `vigil_ssf_deliveries_total{outcome="${outcome}"}`);
      return Number.isNaN(n) ? 0 : n;
    };
    const deadline = Date.now() + 10_000;
    while ((await delivered("pushed")) + (await delivered("push_rejected")) < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return {
      summary,
      commandIds,
      expected,
      published: running.jwks.keys.map((k) => ({ kid: k.kid, kty: k.kty, alg: k.alg })),
      deliveries: {
        pushed: await delivered("pushed"),
        pushRejected: await delivered("push_rejected"),
        acknowledged: await delivered("acknowledged"),
        pollError: await delivered("poll_error"),
      },
      outbox: await metric(port, "vigil_ssf_outbox_sets"),
    };
  } finally {
    if (java && java.exitCode === null) java.kill();
    await running.stop();
  }
}

describe("SSF Security Event Tokens in a Nimbus JOSE+JWT receiver (live)", () => {
  beforeAll(() => {
    // Built once with Maven (Nimbus from Maven Central on the first run, ~/.m2 after), then run with java -cp.
    const built = spawnSync("mvn", ["-q", "-B", "-f", join(project, "pom.xml"), "package"], { encoding: "utf8", timeout: 280_000 });
    if (built.error) throw new Error(`this test needs Maven (mvn) and a JDK 17+ on PATH (.ci/run installs them): ${built.error.message}`);
    if (built.status !== 0)
      throw new Error(`mvn package of ${project} failed (exit ${built.status}):\n${`${built.stdout}${built.stderr}`.split("\n").slice(-30).join("\n")}`);
    classpath = [join(project, "target", "classes"), readFileSync(join(project, "target", "classpath.txt"), "utf8").trim()].join(delimiter);
  }, 300_000);

  for (const alg of ["ES256", "RS256"] as const)
    it(`${alg}: every SET, pushed and polled, verifies in Nimbus; the Ed25519 record key in the same JWKS is skipped`, { timeout: 180_000 }, async () => {
      const { summary, commandIds, expected, published, deliveries, outbox } = await nimbusAgainst(alg);
      expect(summary.complete, JSON.stringify(summary)).toBe(true);
      expect(summary).toMatchObject({
        pushed: { verified: expected, rejected: 0 },
        polled: { verified: expected, rejected: 0 },
        verified: 2 * expected,
        rejected: 0,
        algs: { [alg]: 2 * expected },
        errors: {},
      });
      // Nimbus read the JWKS Vigil publishes: the Ed25519 record key, then the SSF key; it could use only the latter.
      expect(summary.jwks).toEqual(published);
      expect(summary.jwks.map((k) => [k.kty, k.alg])).toEqual([
        ["OKP", "EdDSA"],
        [alg === "ES256" ? "EC" : "RSA", alg],
      ]);
      expect(summary.javaKeys).toBe(1);
      // Every command arrived once by each delivery, verified, and the verification event on each stream.
      for (const via of ["push", "poll"])
        expect(
          summary.txns
            .filter((t) => t.startsWith(`${via}:`))
            .map((t) => t.slice(via.length + 1))
            .sort(),
        ).toEqual([...commandIds].sort());
      expect(summary.events[SSF_VERIFICATION_EVENT]).toBe(2);
      expect(Object.keys(summary.events).filter((e) => e.startsWith("https://schemas.openid.net/secevent/caep/event-type/")).length).toBeGreaterThanOrEqual(2);
      expect(deliveries).toEqual({ pushed: expected, pushRejected: 0, acknowledged: expected, pollError: 0 });
      expect(outbox).toBe(0);
    });

  it(
    "EdDSA (the control): Nimbus selects no key for any SET, answers 400 to every push and reports every polled one; Vigil drops them",
    { timeout: 180_000 },
    async () => {
      const { summary, expected, published, deliveries, outbox } = await nimbusAgainst("EdDSA");
      expect(summary.complete, JSON.stringify(summary)).toBe(true);
      expect(summary).toMatchObject({
        pushed: { verified: 0, rejected: expected },
        polled: { verified: 0, rejected: expected },
        verified: 0,
        rejected: 2 * expected,
        algs: { EdDSA: 2 * expected },
        events: {},
        txns: [],
      });
      // One key, the record key itself (EdDSA SETs reuse it): Nimbus reads it but turns it into no Java key.
      expect(summary.jwks).toEqual(published);
      expect(summary.jwks.map((k) => [k.kty, k.alg])).toEqual([["OKP", "EdDSA"]]);
      expect(summary.javaKeys).toBe(0);
      expect(summary.errors).toEqual({ "BadJOSEException: Signed JWT rejected: Another algorithm expected, or no matching key(s) found": 2 * expected });
      expect(deliveries).toEqual({ pushed: 0, pushRejected: expected, acknowledged: 0, pollError: expected });
      expect(outbox).toBe(0);
    },
  );
});
