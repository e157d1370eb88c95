import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vigil as runVigil } from "../support/processes.js";

// `vigil keys`: making a signing key and printing the public JWKS enforcers trust.

const vigil = (env: Record<string, string>, ...args: string[]) => runVigil(args, { env: { PATH: process.env.PATH ?? "", ...env } });

describe("vigil keys", () => {
  it("generate writes a private Ed25519 JWK (0600, never overwritten) and prints its public JWKS; jwks prints the same public key", () => {
    const file = join(mkdtempSync(join(tmpdir(), "vigil-cli-keys-")), "signing.jwk");
    const made = vigil({}, "keys", "generate", "--out", file);
    expect(made.status, made.stderr).toBe(0);
    const priv = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    expect(priv).toMatchObject({ kty: "OKP", crv: "Ed25519", d: expect.any(String), kid: expect.any(String) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pub = JSON.parse(made.stdout) as { keys: Record<string, string>[] };
    expect(pub.keys).toEqual([{ kty: "OKP", crv: "Ed25519", x: priv.x, kid: priv.kid, alg: "EdDSA", use: "sig" }]);

    const again = vigil({}, "keys", "generate", "--out", file);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("never overwritten");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(priv);

    const jwks = vigil({ VIGIL_SIGNING_KEY_FILE: file }, "keys", "jwks");
    expect(jwks.status, jwks.stderr).toBe(0);
    expect(JSON.parse(jwks.stdout)).toEqual(pub);
  });

  it("an unusable key is a configuration error naming the variable (exit 2)", () => {
    const r = vigil({ VIGIL_SIGNING_KEY: '{"kty":"oct","k":"c2VjcmV0"}' }, "keys", "jwks");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: VIGIL_SIGNING_KEY: a signing key must be an Ed25519/);
  });
});
