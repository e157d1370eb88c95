import * as jose from "jose";
import type { RefusalReason, SignedRecordHeader } from "../protocol/signature.js";
import { SIGNATURE_ALGORITHMS, SIGNATURE_HEADER, SIGNED_RECORD_TYPE } from "../protocol/signature.js";

// Verifying Vigil's signed records (docs/security.md): the detached JWS in the `vigil-jws`
// header must verify, with a key the reader trusts, over the record's exact value bytes,
// and must name the topic the record was read from. Ordering (a replayed old record) is
// the enforcer's to judge: it knows what it already applied.

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
    const parts = text.split(".");
    if (parts.length !== 3 || parts[1] !== "" || text.length > 4096) return refuse("malformed", "not a compact detached JWS");
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
      return refuse("malformed", e instanceof Error ? e.message : String(e));
    }
    if (header["vigil-topic"] !== topic) return refuse("wrong_topic", `signed for ${header["vigil-topic"]}, read from ${topic}`);
    return { ok: true, kid: header.kid, iat: header.iat };
  };
}
