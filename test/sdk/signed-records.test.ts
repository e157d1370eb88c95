import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { generateSigningJwk, publicJwks, recordSigner, SigningKeyError } from "../../src/adapters/signing.js";
import { recordVerifier } from "../../src/codec/record-jws.js";
import { SIGNATURE_HEADER } from "../../src/protocol/signature.js";
import { Registry } from "prom-client";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { EnforcerOptions } from "../../src/sdk/enforcer.js";

// The detached JWS on every command and status record: what verifies, and each way a
// forgery is refused (RFC 7515 appendix F, over the exact value bytes).

const topic = "vigil.commands";
const value = Buffer.from(JSON.stringify({ commandId: "c1", sessionId: "s1", type: "downgrade" }));
const dir = () => mkdtempSync(join(tmpdir(), "vigil-keys-"));

async function signerWith(jwk?: jose.JWK) {
  const k = jwk ?? (await generateSigningJwk());
  return { jwk: k, signer: await recordSigner({ key: JSON.stringify(k), keyFile: "unused" }) };
}

describe("signed records", () => {
  it("signs the exact value bytes with a detached compact JWS that jose verifies once the payload is re-attached", async () => {
    const { signer } = await signerWith();
    const header = await signer.sign(topic, value);
    const [h, payload, s] = header.split(".");
    expect(payload).toBe("");
    expect(jose.decodeProtectedHeader(header)).toMatchObject({ alg: "EdDSA", kid: signer.kid, typ: "vigil-record+jws", "vigil-topic": topic });
    const verified = await jose.compactVerify(`${h}.${jose.base64url.encode(value)}.${s}`, jose.createLocalJWKSet({ keys: [...signer.jwks.keys] }));
    expect(Buffer.from(verified.payload)).toEqual(value);
    expect(signer.jwks.keys[0]).not.toHaveProperty("d");
  });

  it("verifies a good record and refuses unsigned, malformed, tampered, unknown-key and wrong-topic ones", async () => {
    const { signer } = await signerWith();
    const verify = recordVerifier({ jwks: signer.jwks });
    const good = await signer.sign(topic, value);
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: Buffer.from(good) })).toMatchObject({ ok: true, kid: signer.kid });

    expect(await verify(topic, value, {})).toMatchObject({ ok: false, reason: "unsigned" });
    expect(await verify(topic, value, undefined)).toMatchObject({ ok: false, reason: "unsigned" });
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: "not-a-jws" })).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: "eyJhbGciOiJub25lIn0..AAAA" })).toMatchObject({ ok: false, reason: "malformed" });

    const tampered = Buffer.from(value.toString().replace("downgrade", "restore"));
    expect(await verify(topic, tampered, { [SIGNATURE_HEADER]: good })).toMatchObject({ ok: false, reason: "bad_signature" });

    const { signer: attacker } = await signerWith();
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: await attacker.sign(topic, value) })).toMatchObject({ ok: false, reason: "unknown_key" });
    // The attacker's key presented under the real kid: the signature does not verify.
    const { jwk } = await signerWith();
    const impostor = await signerWith({ ...jwk, kid: signer.kid });
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: await impostor.signer.sign(topic, value) })).toMatchObject({ ok: false, reason: "bad_signature" });

    const statusSigned = await signer.sign("vigil.session-status", value);
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: statusSigned })).toMatchObject({ ok: false, reason: "wrong_topic" });
  });

  it("an unsigned 'alg: none' token or an HMAC one never verifies, even with a known kid", async () => {
    const { signer } = await signerWith();
    const verify = recordVerifier({ jwks: signer.jwks });
    const b64 = (o: object) => jose.base64url.encode(JSON.stringify(o));
    const base = { kid: signer.kid, typ: "vigil-record+jws", "vigil-topic": topic, iat: 1 };
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: `${b64({ ...base, alg: "none" })}..` })).toMatchObject({ ok: false, reason: "malformed" });
    const hmac = await new jose.CompactSign(value).setProtectedHeader({ ...base, alg: "HS256" }).sign(new TextEncoder().encode("x".repeat(32)));
    const [h, , s] = hmac.split(".");
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: `${h}..${s}` })).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("ES256 keys sign too, and a rotation file keeps the previous key trusted next to the new one", async () => {
    const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
    const es = { ...(await jose.exportJWK(privateKey)), kid: "es-2026-12" };
    const previous = await signerWith();
    const d = dir();
    const rotation = join(d, "previous.jwks.json");
    writeFileSync(rotation, JSON.stringify(previous.signer.jwks));
    const current = await recordSigner({ key: JSON.stringify(es), keyFile: "unused", publicKeysFile: rotation });
    expect(current.alg).toBe("ES256");
    expect(current.jwks.keys.map((k) => k.kid)).toEqual(["es-2026-12", previous.signer.kid]);
    const verify = recordVerifier({ jwks: current.jwks });
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: await current.sign(topic, value) })).toMatchObject({ ok: true, kid: "es-2026-12" });
    expect(await verify(topic, value, { [SIGNATURE_HEADER]: await previous.signer.sign(topic, value) })).toMatchObject({ ok: true, kid: previous.signer.kid });
  });

  it("creates the key file once (mode 0600), reuses it, and two processors starting at once share one key", async () => {
    const keyFile = join(dir(), "nested", "signing-key.jwk");
    const created: string[] = [];
    const [a, b] = await Promise.all([recordSigner({ keyFile }, (p) => created.push(p)), recordSigner({ keyFile }, (p) => created.push(p))]);
    expect(created).toEqual([keyFile]);
    expect(a.kid).toBe(b.kid);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect((await recordSigner({ keyFile })).kid).toBe(a.kid);
    expect((await publicJwks({ keyFile })).keys[0]).toMatchObject({ kid: a.kid, kty: "OKP", crv: "Ed25519" });
    expect(JSON.parse(readFileSync(keyFile, "utf8"))).toHaveProperty("d");
  });

  it("refuses unusable keys with an error naming the variable", async () => {
    const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
    const rsa = JSON.stringify(await jose.exportJWK(privateKey));
    await expect(recordSigner({ key: rsa, keyFile: "unused" })).rejects.toThrow(/VIGIL_SIGNING_KEY: a signing key must be an Ed25519/);
    const pub = (await signerWith()).signer.jwks.keys[0];
    await expect(recordSigner({ key: JSON.stringify(pub), keyFile: "unused" })).rejects.toThrow(/VIGIL_SIGNING_KEY: the JWK has no private part/);
    await expect(recordSigner({ key: "{not json", keyFile: "unused" })).rejects.toThrow(SigningKeyError);
    const d = dir();
    const bad = join(d, "bad.jwks.json");
    writeFileSync(bad, JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x: "AAAA" }] }));
    const good = JSON.stringify(await generateSigningJwk());
    await expect(recordSigner({ key: good, keyFile: "unused", publicKeysFile: bad })).rejects.toThrow(/VIGIL_SIGNING_PUBLIC_KEYS_FILE .*keys\[0\] has no kid/);
  });

  it("an enforcer without `verify` is refused at creation (JavaScript callers get no compile error); two may share a metrics registry", async () => {
    await expect(createEnforcer({ brokers: ["127.0.0.1:1"] } as unknown as EnforcerOptions)).rejects.toThrow(/`verify` is required/);
    const metricsRegistry = new Registry();
    const { signer } = await signerWith();
    const options = { brokers: ["127.0.0.1:1"], verify: { jwks: signer.jwks }, metricsRegistry, acks: false };
    await createEnforcer(options);
    await createEnforcer(options);
    expect(await metricsRegistry.getSingleMetricAsString("vigil_enforcer_records_refused_total")).toContain("vigil_enforcer_records_refused_total");
  });

  it("jwksUrl: fetches the processor's JWKS and verifies; a JWKS that does not answer is an error, never a refusal", async () => {
    const { signer } = await signerWith();
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/jwk-set+json" });
      res.end(JSON.stringify(signer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const verify = recordVerifier({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` });
      expect(await verify(topic, value, { [SIGNATURE_HEADER]: await signer.sign(topic, value) })).toMatchObject({ ok: true, kid: signer.kid });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const unreachable = recordVerifier({ jwksUrl: "http://127.0.0.1:1/.well-known/jwks.json" });
    await expect(unreachable(topic, value, { [SIGNATURE_HEADER]: await signer.sign(topic, value) })).rejects.toThrow();
  });
});
