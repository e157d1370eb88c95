import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { recordKey, recordVerifier } from "../../src/codec/record-jws.js";
import { generateSetJwk, publicJwks, recordSigner, setSigner, SigningKeyError, withSetKey } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import { SIGNATURE_HEADER } from "../../src/protocol/signature.js";
import { SET_TYPE } from "../../src/protocol/ssf.js";

// The SSF transmitter's signing key (VIGIL_SSF_SIGNING_ALG, ES256 by default): which key signs
// the Security Event Tokens, how it is made and kept, and that publishing it next to the record
// keys leaves record verification as it was (the key is chosen by kid).

const ISSUER = "https://vigil.example.com";
const dir = () => mkdtempSync(join(tmpdir(), "vigil-ssf-keys-"));
const ssfEnv = (extra: Record<string, string>) => ({ VIGIL_SSF_ISSUER: ISSUER, VIGIL_SSF_RECEIVERS: "idp:0123456789abcdef", ...extra });

/** The record signer, SET signer and published JWKS `vigil start` would have for `env`, and the key files it created. */
async function keysFor(env: Record<string, string>) {
  const config = loadConfig(ssfEnv(env));
  const ssf = config.ssf?.signing;
  if (!ssf) throw new Error("SSF is off");
  const created: string[] = [];
  const record = await recordSigner(config.signing, (p) => created.push(p));
  const set = await setSigner(ssf, record, (p) => created.push(p));
  return { config, ssf, record, set, created, published: withSetKey(record.jwks, set) };
}

const claims = { iss: ISSUER, aud: "idp", jti: "j-1", iat: 1_764_583_205, txn: "cmd-1", events: {} };
const verifySet = (token: string, jwks: { keys: jose.JWK[] }) =>
  jose.jwtVerify(token, jose.createLocalJWKSet({ keys: jwks.keys.map((k) => ({ ...k })) }), { issuer: ISSUER, audience: "idp", typ: SET_TYPE });
const topic = "vigil.commands";
const value = Buffer.from(JSON.stringify({ commandId: "c1", sessionId: "s1", type: "revoke" }));

describe("the SSF signing key", () => {
  it("ES256 by default: with the default Ed25519 record key, a P-256 key of its own, made once beside the record key (0600, kid its thumbprint) and published after it", async () => {
    const d = dir();
    const env = { VIGIL_SIGNING_KEY_FILE: join(d, "signing-key.jwk") };
    expect(loadConfig({}).ssf).toBeUndefined();
    const { ssf, record, set, created, published } = await keysFor(env);
    expect(ssf).toEqual({ alg: "ES256", key: undefined, keyFile: undefined, defaultKeyFile: join(d, "ssf-signing-key-es256.jwk") });
    expect(record.alg).toBe("EdDSA");
    expect(created).toEqual([join(d, "signing-key.jwk"), join(d, "ssf-signing-key-es256.jwk")]);

    const file = join(d, "ssf-signing-key-es256.jwk");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const priv = JSON.parse(readFileSync(file, "utf8")) as jose.JWK;
    expect(priv).toMatchObject({ kty: "EC", crv: "P-256", d: expect.any(String), alg: "ES256", use: "sig" });
    expect(priv.kid).toBe(await jose.calculateJwkThumbprint({ kty: "EC", crv: "P-256", x: priv.x as string, y: priv.y as string }));
    expect(set).toMatchObject({ alg: "ES256", kid: priv.kid, source: `VIGIL_SSF_SIGNING_KEY_FILE (${file})` });

    // Both public keys, the record key first; nothing private.
    expect(published.keys.map((k) => [k.kid, k.kty, k.alg])).toEqual([
      [record.kid, "OKP", "EdDSA"],
      [priv.kid, "EC", "ES256"],
    ]);
    for (const k of published.keys) expect(Object.keys(k).filter((f) => ["d", "p", "q", "dp", "dq", "qi"].includes(f))).toEqual([]);

    // A SET: header ES256 with the SSF kid, verified against the published JWKS.
    const token = await set.sign(claims, SET_TYPE);
    const verified = await verifySet(token, published);
    expect(verified.protectedHeader).toEqual({ alg: "ES256", kid: priv.kid, typ: SET_TYPE });
    expect(verified.payload.txn).toBe("cmd-1");

    // A second start keeps both keys; `vigil keys jwks` prints what /.well-known/jwks.json serves.
    const again = await keysFor(env);
    expect(again.created).toEqual([]);
    expect(again.set.kid).toBe(set.kid);
    expect(await publicJwks(again.config.signing, undefined, again.ssf)).toEqual(published);
    expect(await publicJwks(again.config.signing)).toEqual(record.jwks);
  });

  it("records still verify against the published JWKS (the key is chosen by kid), and the processor's own verifier never takes a record signed with the SET key", async () => {
    // The hardest case for kid selection: two P-256 keys, the record key and a given SET key.
    const recordJwk = await generateSetJwk("ES256");
    const setJwk = await generateSetJwk("ES256");
    const { record, set, published } = await keysFor({ VIGIL_SIGNING_KEY: JSON.stringify(recordJwk), VIGIL_SSF_SIGNING_KEY: JSON.stringify(setJwk) });
    expect(published.keys.map((k) => k.kid)).toEqual([record.kid, set.kid]);
    expect(published.keys.map((k) => k.kty)).toEqual(["EC", "EC"]);

    const verify = recordVerifier({ jwks: published });
    const header = await record.sign(topic, value);
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: header })).toMatchObject({ ok: true, kid: record.kid });
    const tampered = Buffer.from(value.toString().replace("revoke", "restore"));
    expect(await verify(topic, tampered, { [SIGNATURE_HEADER]: header })).toMatchObject({ ok: false, reason: "bad_signature" });
    expect((await verifySet(await set.sign(claims, SET_TYPE), published)).protectedHeader.kid).toBe(set.kid);

    // The processor checks its own commands (the SSF feed, verdicts) against the record keys only.
    const withSetKeyOnly = await recordKey(setJwk);
    const own = recordVerifier({ jwks: record.jwks });
    expect(await own(topic, value, { [SIGNATURE_HEADER]: await withSetKeyOnly.sign(topic, value) })).toMatchObject({ ok: false, reason: "unknown_key" });
  });

  it("RS256: an RSA key of its own (2048 bits); EdDSA: the Ed25519 record key itself, as before; a P-256 record key signs ES256 SETs too", async () => {
    const d = dir();
    const rsa = await keysFor({ VIGIL_SIGNING_KEY_FILE: join(d, "signing-key.jwk"), VIGIL_SSF_SIGNING_ALG: "RS256" });
    expect(rsa.created).toEqual([join(d, "signing-key.jwk"), join(d, "ssf-signing-key-rs256.jwk")]);
    expect(rsa.set.alg).toBe("RS256");
    const rsaPub = rsa.published.keys[1] as jose.JWK;
    expect(rsaPub).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: rsa.set.kid, e: "AQAB" });
    expect(Buffer.from(rsaPub.n as string, "base64url").length * 8).toBe(2048);
    expect(rsaPub).not.toHaveProperty("d");
    expect((await verifySet(await rsa.set.sign(claims, SET_TYPE), rsa.published)).protectedHeader.alg).toBe("RS256");

    // EdDSA, opted into: one key, exactly the old behaviour (no file made, nothing added to the JWKS).
    const ed = await keysFor({ VIGIL_SIGNING_KEY_FILE: join(d, "signing-key.jwk"), VIGIL_SSF_SIGNING_ALG: "EdDSA" });
    expect(ed.created).toEqual([]);
    expect(ed.set).toMatchObject({ kid: ed.record.kid, alg: "EdDSA", source: "the record signing key" });
    expect(ed.published).toEqual(ed.record.jwks);
    expect((await verifySet(await ed.set.sign(claims, SET_TYPE), ed.published)).protectedHeader).toMatchObject({ alg: "EdDSA", kid: ed.record.kid });

    const p256 = await keysFor({ VIGIL_SIGNING_KEY: JSON.stringify(await generateSetJwk("ES256")), VIGIL_SIGNING_KEY_FILE: join(d, "unused.jwk") });
    expect(p256.created).toEqual([]);
    expect(p256.set.kid).toBe(p256.record.kid);
    expect(p256.published.keys).toHaveLength(1);
  });

  it("a given key must be a usable private key for VIGIL_SSF_SIGNING_ALG; each problem is one line naming the variable", async () => {
    expect(() => loadConfig(ssfEnv({ VIGIL_SSF_SIGNING_ALG: "HS256" }))).toThrow(
      /^invalid configuration: VIGIL_SSF_SIGNING_ALG: ES256, RS256 or EdDSA \(got "HS256"\)$/,
    );
    const d = dir();
    const record = { VIGIL_SIGNING_KEY_FILE: join(d, "signing-key.jwk") };
    const fails = async (env: Record<string, string>) => {
      const e = await keysFor({ ...record, ...env }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SigningKeyError);
      const message = (e as Error).message;
      expect(message).not.toContain("\n");
      return message;
    };
    const p256 = await generateSetJwk("ES256");
    expect(await fails({ VIGIL_SSF_SIGNING_ALG: "RS256", VIGIL_SSF_SIGNING_KEY: JSON.stringify(p256) })).toBe(
      "VIGIL_SSF_SIGNING_KEY: a key for ES256, but VIGIL_SSF_SIGNING_ALG is RS256",
    );
    const { d: _d, ...publicOnly } = p256;
    expect(await fails({ VIGIL_SSF_SIGNING_KEY: JSON.stringify(publicOnly) })).toBe('VIGIL_SSF_SIGNING_KEY: the JWK has no private part ("d")');
    expect(await fails({ VIGIL_SSF_SIGNING_KEY: '{"kty":"oct","k":"c2VjcmV0"}' })).toMatch(
      /^VIGIL_SSF_SIGNING_KEY: an SSF signing key must be a P-256 \(kty EC\), RSA or Ed25519 \(kty OKP\) JWK, got kty oct/,
    );
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "jwk" });
    expect(await fails({ VIGIL_SSF_SIGNING_ALG: "RS256", VIGIL_SSF_SIGNING_KEY: JSON.stringify(small) })).toBe(
      "VIGIL_SSF_SIGNING_KEY: an RSA key needs a modulus of at least 2048 bits, got 1024",
    );
    // A key file of another algorithm than the setting asks for: named, with its path.
    const file = join(d, "ssf.jwk");
    await keysFor({ ...record, VIGIL_SSF_SIGNING_KEY_FILE: file, VIGIL_SSF_SIGNING_ALG: "EdDSA" });
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(await fails({ VIGIL_SSF_SIGNING_KEY_FILE: file })).toBe(`VIGIL_SSF_SIGNING_KEY_FILE (${file}): a key for EdDSA, but VIGIL_SSF_SIGNING_ALG is ES256`);
    expect(await fails({ VIGIL_SSF_SIGNING_KEY: "{not json" })).toMatch(/^VIGIL_SSF_SIGNING_KEY: not JSON/);
  });
});
