import { createPrivateKey, sign as cryptoSign } from "node:crypto";
import type { JsonWebKey } from "node:crypto";
import * as jose from "jose";
import type { RefusalReason, SignatureAlgorithm, SignedRecordHeader } from "../protocol/signature.js";
import { SIGNATURE_ALGORITHMS, SIGNATURE_HEADER, SIGNED_RECORD_TYPE } from "../protocol/signature.js";

// Signed records (docs/security.md), pure JOSE with no file or socket of its own, so the
// SDKs can use it: signing a record value with a private JWK (the processor's commands and
// statuses; a gateway's events), and verifying the detached JWS in the `vigil-jws` header
// — with a key the reader trusts, over the record's exact value bytes, naming the topic
// the record was read from. Ordering (a replayed old record) is the reader's to judge.

/** A private key ready to sign records. */
export interface RecordKey {
  readonly kid: string;
  readonly alg: SignatureAlgorithm;
  /** The `vigil-jws` header for a record value written to `topic`, signed now (or at `atMs`, milliseconds since the epoch). */
  sign(topic: string, value: Uint8Array, atMs?: number): Promise<string>;
}

export class SigningKeyError extends Error {
  readonly code = "SIGNING_KEY_INVALID";
}

const PRIVATE_FIELDS = ["d", "p", "q", "dp", "dq", "qi", "k"] as const;

export function algorithmOf(jwk: jose.JWK, where: string): SignatureAlgorithm {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  throw new SigningKeyError(`${where}: a signing key must be an Ed25519 (kty OKP) or P-256 (kty EC) JWK, got kty ${String(jwk.kty)} crv ${String(jwk.crv)}`);
}

/** The public half of a JWK, with its kid (the JWK's, else its RFC 7638 thumbprint), alg and use. */
export async function publicJwk(jwk: jose.JWK, where = "key"): Promise<jose.JWK> {
  const alg = algorithmOf(jwk, where);
  const pub: Record<string, unknown> = { ...jwk };
  for (const f of PRIVATE_FIELDS) delete pub[f];
  delete pub.key_ops;
  return { ...(pub as jose.JWK), kid: jwk.kid ?? (await jose.calculateJwkThumbprint(pub as jose.JWK)), alg, use: "sig" };
}

/** A signer for a private JWK (Ed25519 or P-256); `where` names its origin in errors. */
export async function recordKey(jwk: jose.JWK, where = "key"): Promise<RecordKey> {
  const alg = algorithmOf(jwk, where);
  if (typeof jwk.d !== "string") throw new SigningKeyError(`${where}: the JWK has no private part ("d")`);
  const { kid } = (await publicJwk(jwk, where)) as { kid: string };
  // node:crypto signs synchronously, about twice as fast per record as jose's WebCrypto path;
  // the result is the same compact JWS (Ed25519 signatures are deterministic; ES256 is
  // IEEE P1363 r||s as JWS wants), verified by any JOSE library.
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" });
  return {
    kid,
    alg,
    async sign(topic, value, atMs = Date.now()) {
      const header: SignedRecordHeader = { alg, kid, typ: SIGNED_RECORD_TYPE, "vigil-topic": topic, iat: atMs / 1000 };
      const protectedHeader = Buffer.from(JSON.stringify(header), "utf8").toString("base64url");
      const input = Buffer.from(`${protectedHeader}.${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64url")}`, "ascii");
      const signature = alg === "EdDSA" ? cryptoSign(null, input, key) : cryptoSign("sha256", input, { key, dsaEncoding: "ieee-p1363" });
      return `${protectedHeader}..${signature.toString("base64url")}`;
    },
  };
}

/** The public keys to trust: a JWKS, or the URL that serves one (refetched when an unknown kid appears). */
export type TrustedKeys = { readonly jwks: { readonly keys: readonly jose.JWK[] } } | { readonly jwksUrl: string };

export type Verified =
  { readonly ok: true; readonly kid: string; readonly iat: number } | { readonly ok: false; readonly reason: RefusalReason; readonly detail: string };

export type RecordVerifier = (topic: string, value: Uint8Array, headers: Readonly<Record<string, unknown>> | undefined) => Promise<Verified>;

const refuse = (reason: RefusalReason, detail: string): Verified => ({ ok: false, reason, detail });

function headerText(headers: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const raw = headers?.[SIGNATURE_HEADER];
  const one = Array.isArray(raw) ? raw[0] : raw;
  if (typeof one === "string") return one;
  if (one instanceof Uint8Array) return Buffer.from(one).toString("utf8");
  return undefined;
}

function wellFormed(h: jose.ProtectedHeaderParameters): h is jose.ProtectedHeaderParameters & SignedRecordHeader {
  const r = h as Record<string, unknown>;
  return (
    h.typ === SIGNED_RECORD_TYPE &&
    (SIGNATURE_ALGORITHMS as readonly string[]).includes(String(h.alg)) &&
    typeof h.kid === "string" &&
    typeof r["vigil-topic"] === "string" &&
    typeof r.iat === "number" &&
    Number.isFinite(r.iat)
  );
}

/** A verifier of `vigil-jws` headers against the trusted keys. */
export function recordVerifier(trusted: TrustedKeys): RecordVerifier {
  const keys =
    "jwks" in trusted
      ? jose.createLocalJWKSet({ keys: trusted.jwks.keys.map((k) => ({ ...k })) })
      : jose.createRemoteJWKSet(new URL(trusted.jwksUrl), { cooldownDuration: 10_000 });
  return async (topic, value, headers) => {
    const text = headerText(headers);
    if (text === undefined) return refuse("unsigned", `no ${SIGNATURE_HEADER} header`);
    if (text.length > 4096) return refuse("malformed", "not a compact detached JWS");
    const parts = text.split(".");
    if (parts.length !== 3 || parts[1] !== "") return refuse("malformed", "not a compact detached JWS");
    let header: jose.ProtectedHeaderParameters;
    try {
      header = jose.decodeProtectedHeader(text);
    } catch {
      return refuse("malformed", "unreadable protected header");
    }
    if (!wellFormed(header)) return refuse("malformed", "the protected header lacks typ, alg, kid, vigil-topic or iat");
    try {
      await jose.compactVerify(`${parts[0]}.${jose.base64url.encode(value)}.${parts[2]}`, keys, { algorithms: [...SIGNATURE_ALGORITHMS] });
    } catch (e) {
      if (e instanceof jose.errors.JWKSNoMatchingKey) return refuse("unknown_key", `no trusted key with kid ${header.kid}`);
      if (e instanceof jose.errors.JWSSignatureVerificationFailed) return refuse("bad_signature", "the signature does not match the value");
      if (e instanceof jose.errors.JWSInvalid || e instanceof jose.errors.JOSEAlgNotAllowed || e instanceof jose.errors.JOSENotSupported)
        return refuse("malformed", e.message);
      // The JWKS URL did not answer (a timeout, a network error, a bad response): nothing is
      // known about the record, so it is not refused. The error goes to the caller, whose
      // batch is retried (the enforcer's consumer), instead of dropping a genuine command.
      throw e;
    }
    if (header["vigil-topic"] !== topic) return refuse("wrong_topic", `signed for ${header["vigil-topic"]}, read from ${topic}`);
    return { ok: true, kid: header.kid, iat: header.iat };
  };
}
