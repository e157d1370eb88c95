import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/** A deterministic id: the same parts always give the same id, so a replay or a restart reproduces it. */
export function deriveId(prefix: string, parts: readonly string[]): string {
  const digest = sha256(utf8ToBytes(parts.join("\u001f")));
  return `${prefix}_${bytesToHex(digest).slice(0, 32)}`;
}

/** A text's digest as events carry it (`output.digest`, a listed tool's `digest`): `sha-256:<hex>`. */
export function textDigest(text: string): string {
  return `sha-256:${bytesToHex(sha256(utf8ToBytes(text)))}`;
}
