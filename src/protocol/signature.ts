// Signed output (docs/contract.md, "Signed records"): every record the processor writes to
// vigil.commands and vigil.session-status carries a detached JWS (RFC 7515 appendix F) of
// its exact value bytes in the record header `vigil-jws`. The value stays the plain
// contract record; a reader that does not verify ignores the header.

/** The record header that carries the detached JWS: `BASE64URL(protected header)..BASE64URL(signature)`. */
export const SIGNATURE_HEADER = "vigil-jws";

/** The record header in which a publisher names itself (self-declared: trusted only as far as write access to the events topic is). */
export const PRODUCER_HEADER = "vigil-producer";

/** The `typ` of the protected header. */
export const SIGNED_RECORD_TYPE = "vigil-record+jws";

/** Signature algorithms a key may use: Ed25519 (`EdDSA`) or P-256 (`ES256`). */
export const SIGNATURE_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** The protected header of a signed record. */
export interface SignedRecordHeader {
  readonly alg: SignatureAlgorithm;
  readonly kid: string;
  readonly typ: typeof SIGNED_RECORD_TYPE;
  /** The topic the record was written to: a record copied to another topic does not verify there. */
  readonly "vigil-topic": string;
  /** When it was signed, in seconds since the epoch (fractional): orders a session's records, so an old one replayed is stale. */
  readonly iat: number;
}

/**
 * Why a reader refused a record: no signature header; a header that is not a compact
 * detached JWS with the expected fields; a key id it does not trust; a signature that does
 * not match the bytes; signed for another topic; or signed before the newest record it
 * already applied for the session (beyond the allowed clock skew) — a replay.
 */
export const REFUSAL_REASONS = ["unsigned", "malformed", "unknown_key", "bad_signature", "wrong_topic", "stale"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
