import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vigil as runVigil } from "../support/processes.js";

// A configuration error stops any command at once with one line naming the variable, a
// non-zero exit and no stack trace, whether loadConfig finds it or a later reader of the
// configuration (a token file, a key file) does. Nothing here needs the stack running.

const dir = mkdtempSync(join(tmpdir(), "vigil-config-errors-"));
// The environment of an operator who set only what each case sets.
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIGIL_") || k.startsWith("VIGIL_STACK_")));
const vigil = (args: string[], env: Record<string, string>) =>
  runVigil(args, {
    cwd: dir,
    timeout: 60_000,
    env: { ...clean, VIGIL_SIGNING_KEY_FILE: join(dir, "signing-key.jwk"), VIGIL_LOG_LEVEL: "silent", ...env },
  });

function expectOneLine(r: ReturnType<typeof vigil>, names: RegExp): void {
  expect(r.error).toBeUndefined();
  expect(r.status).not.toBe(0);
  expect(r.status).not.toBeNull();
  expect(r.stderr).toMatch(/^vigil: [^\n]+\n$/);
  expect(r.stderr).toMatch(names);
  expect(r.stderr).not.toMatch(/\bat \S+ \(|\bat file:|Error:/);
}

describe("configuration errors through the CLI", () => {
  it("vigil start with a VIGIL_SSF_RECEIVERS token under 16 characters: one line naming the variable, no stack, no token", { timeout: 60_000 }, () => {
    const r = vigil(["start"], { VIGIL_SSF_RECEIVERS: "idp:tooshort", VIGIL_SSF_ISSUER: "http://127.0.0.1:9464/" });
    expectOneLine(r, /^vigil: invalid configuration: VIGIL_SSF_RECEIVERS: entry 1: expected name:token with a token of at least 16 characters\n$/);
    expect(r.stderr).not.toContain("tooshort");
  });

  it("vigil start with a short token in VIGIL_REVIEW_TOKENS_FILE: one line naming the file and the variable", { timeout: 60_000 }, () => {
    const file = join(dir, "reviewers.txt");
    writeFileSync(file, "# reviewers\nalice:short\n");
    expectOneLine(vigil(["start"], { VIGIL_REVIEW_TOKENS_FILE: file }), /reviewers\.txt line 2 \(VIGIL_REVIEW_TOKENS_FILE\): expected name:token/);
  });

  it("vigil start with an unknown variable, vigil demo and vigil review list with a bad value: one line each", { timeout: 60_000 }, () => {
    expectOneLine(vigil(["start"], { VIGIL_KAFKA_BROKER: "kafka:9092" }), /^vigil: invalid configuration: VIGIL_KAFKA_BROKER: unknown variable/);
    expectOneLine(
      vigil(["demo", "--for", "1"], { VIGIL_SSF_RECEIVERS: "idp:tooshort", VIGIL_SSF_ISSUER: "http://127.0.0.1:9464/" }),
      /VIGIL_SSF_RECEIVERS: entry 1/,
    );
    expectOneLine(vigil(["review", "list"], { VIGIL_HTTP_PORT: "abc" }), /^vigil: invalid configuration: VIGIL_HTTP_PORT: /);
    expectOneLine(vigil(["start"], { VIGIL_KAFKA_SSL: "true", VIGIL_KAFKA_SSL_CA_FILE: join(dir, "missing-ca.pem") }), /VIGIL_KAFKA_SSL_CA_FILE: cannot read/);
  });
});
