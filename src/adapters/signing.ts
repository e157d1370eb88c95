import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as jose from "jose";
import type { SsfSigningAlg } from "../config/config.js";
import type { RecordKey } from "../codec/record-jws.js";
import { SigningKeyError, algorithmOf, publicJwk, recordKey } from "../codec/record-jws.js";

export { SigningKeyError, publicJwk };

// The processor's signing key (docs/security.md): a private JWK, Ed25519 (EdDSA) or P-256
// (ES256), given inline (VIGIL_SIGNING_KEY) or in a file (VIGIL_SIGNING_KEY_FILE; created
// with a new Ed25519 key on first start when absent, mode 0600). Its public half, plus any
// keys still published for rotation (VIGIL_SIGNING_PUBLIC_KEYS_FILE), is the JWKS readers
// trust: served at /.well-known/jwks.json and printed by `vigil keys jwks`.
//
// The SSF transmitter's Security Event Tokens are signed with VIGIL_SSF_SIGNING_ALG, ES256 by
// default (docs/ssf.md): Java receivers built on Nimbus JOSE+JWT select no Ed25519 key from a
// JWKS. When the record key does not sign with that algorithm, SETs get a key of their own,
// made and kept the same way, and the JWKS publishes it after the record keys.

export interface SigningSettings {
  readonly key?: string | undefined;
  readonly keyFile: string;
  readonly publicKeysFile?: string | undefined;
}

export interface Jwks {
  readonly keys: jose.JWK[];
}

export interface RecordSigner extends RecordKey {
  /** The public keys readers should trust: this key first, then those kept for rotation. */
  readonly jwks: Jwks;
  /** A compact JWT of `claims` with this key (header alg, kid and `typ`): the SSF transmitter's Security Event Tokens. */
  signJwt(claims: jose.JWTPayload, typ: string): Promise<string>;
}

function parseJwk(text: string, where: string): jose.JWK {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch (e) {
    throw new SigningKeyError(`${where}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new SigningKeyError(`${where}: expected a JWK object`);
  return jwk as jose.JWK;
}

/** A new private JWK for `alg` (RSA: 2048 bits) whose kid is its RFC 7638 thumbprint. */
async function generateJwk(alg: SsfSigningAlg): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: await jose.calculateJwkThumbprint(jwk), alg, use: "sig" };
}

/** A new Ed25519 private JWK whose kid is its RFC 7638 thumbprint. */
export const generateSigningJwk = (): Promise<jose.JWK> => generateJwk("EdDSA");

/** A new private JWK for signing SETs with `alg`, kid its RFC 7638 thumbprint. */
export const generateSetJwk = (alg: SsfSigningAlg): Promise<jose.JWK> => generateJwk(alg);

/** The key file's text; absent, a new key from `generate` written to it first (`variable` names the setting in errors). */
async function readOrCreate(path: string, variable: string, generate: () => Promise<jose.JWK>, onCreated: (path: string) => void): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new SigningKeyError(`${variable}: cannot read ${path} (${String(e)})`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(await generate(), null, 2)}\n`;
  try {
    // Exclusive: of two processors starting at once, one writes and both use its key.
    await writeFile(path, text, { flag: "wx", mode: 0o600 });
    onCreated(path);
    return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return readFile(path, "utf8");
    throw new SigningKeyError(`${variable}: cannot create ${path} (${String(e)})`);
  }
}

/** The private JWK the settings name (creating the key file if it does not exist). */
export async function loadSigningJwk(s: SigningSettings, onCreated: (path: string) => void = () => {}): Promise<jose.JWK> {
  const where = s.key !== undefined ? "VIGIL_SIGNING_KEY" : `VIGIL_SIGNING_KEY_FILE (${s.keyFile})`;
  const jwk = parseJwk(s.key ?? (await readOrCreate(s.keyFile, "VIGIL_SIGNING_KEY_FILE", generateSigningJwk, onCreated)), where);
  algorithmOf(jwk, where);
  if (typeof jwk.d !== "string") throw new SigningKeyError(`${where}: the JWK has no private part ("d")`);
  return jwk;
}

/** A JWKS file of public keys, each with a kid (`variable` names it in errors). */
export async function readJwksFile(path: string, variable: string): Promise<Jwks> {
  const where = `${variable} (${path})`;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SigningKeyError(`${where}: cannot read (${String(e)})`);
  }
  const set = parseJwk(text, where) as unknown as { keys?: unknown };
  if (!Array.isArray(set.keys)) throw new SigningKeyError(`${where}: expected a JWKS, { "keys": [...] }`);
  const keys: jose.JWK[] = [];
  for (const [i, k] of (set.keys as jose.JWK[]).entries()) {
    if (typeof k.kid !== "string") throw new SigningKeyError(`${where}: keys[${i}] has no kid`);
    keys.push(await publicJwk(k, `${where} keys[${i}]`));
  }
  return { keys };
}

/** The trusted public keys: the signing key's, then the rotation file's (each needs a kid). */
export async function trustedJwks(s: SigningSettings, signing: jose.JWK): Promise<Jwks> {
  const keys = [await publicJwk(signing, "signing key")];
  if (s.publicKeysFile)
    for (const pub of (await readJwksFile(s.publicKeysFile, "VIGIL_SIGNING_PUBLIC_KEYS_FILE")).keys) if (!keys.some((x) => x.kid === pub.kid)) keys.push(pub);
  return { keys };
}

export async function recordSigner(s: SigningSettings, onCreated?: (path: string) => void): Promise<RecordSigner> {
  const jwk = await loadSigningJwk(s, onCreated);
  const jwks = await trustedJwks(s, jwk);
  const key = await recordKey(jwk, s.key !== undefined ? "VIGIL_SIGNING_KEY" : `VIGIL_SIGNING_KEY_FILE (${s.keyFile})`);
  const privateKey = await jose.importJWK(jwk, key.alg);
  return {
    kid: key.kid,
    alg: key.alg,
    sign: key.sign,
    jwks,
    signJwt: (claims, typ) => new jose.SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(privateKey),
  };
}

/** How the SSF transmitter's key is chosen (config.ts, `ssf.signing`). */
export interface SetSigningSettings {
  readonly alg: SsfSigningAlg;
  /** VIGIL_SSF_SIGNING_KEY: a private JWK, inline. */
  readonly key?: string | undefined;
  /** VIGIL_SSF_SIGNING_KEY_FILE, when given. */
  readonly keyFile?: string | undefined;
  /** Where a key of its own is kept (created on first start) when neither is given and the record key signs with another algorithm. */
  readonly defaultKeyFile: string;
}

/** The SSF transmitter's signer of Security Event Tokens. */
export interface SetSigner {
  readonly kid: string;
  readonly alg: SsfSigningAlg;
  /** Its public JWK, published in the JWKS after the record keys. */
  readonly publicJwk: jose.JWK;
  /** Where the key came from (the start log says it). */
  readonly source: string;
  /** A compact JWT of `claims`, header alg, kid and `typ`. */
  sign(claims: jose.JWTPayload, typ: string): Promise<string>;
}

const PRIVATE_JWK_FIELDS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "key_ops"] as const;

/** The algorithm a JWK signs SETs with: P-256 ES256, RSA (2048 bits or more) RS256, Ed25519 EdDSA; anything else is an error naming `where`. */
export function setAlgorithmOf(jwk: jose.JWK, where: string): SsfSigningAlg {
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "RSA") {
    const bits = typeof jwk.n === "string" ? Buffer.from(jwk.n, "base64url").length * 8 : 0;
    if (bits < 2048) throw new SigningKeyError(`${where}: an RSA key needs a modulus of at least 2048 bits, got ${bits}`);
    return "RS256";
  }
  throw new SigningKeyError(
    `${where}: an SSF signing key must be a P-256 (kty EC), RSA or Ed25519 (kty OKP) JWK, got kty ${String(jwk.kty)} crv ${String(jwk.crv)}`,
  );
}

/**
 * The key SETs are signed with: VIGIL_SSF_SIGNING_KEY or VIGIL_SSF_SIGNING_KEY_FILE when given;
 * else the record key itself when it signs with the SSF algorithm (one key, as before); else a
 * key of its own in the default file, created on first start (mode 0600, kid its RFC 7638
 * thumbprint) like the record key's. A key of another algorithm than VIGIL_SSF_SIGNING_ALG is
 * an error: the setting says what receivers are promised.
 */
export async function setSigner(s: SetSigningSettings, record: RecordSigner, onCreated: (path: string) => void = () => {}): Promise<SetSigner> {
  if (s.key === undefined && s.keyFile === undefined && record.alg === s.alg)
    return { kid: record.kid, alg: record.alg, publicJwk: record.jwks.keys[0] as jose.JWK, source: "the record signing key", sign: record.signJwt };
  const file = s.keyFile ?? s.defaultKeyFile;
  const where = s.key !== undefined ? "VIGIL_SSF_SIGNING_KEY" : `VIGIL_SSF_SIGNING_KEY_FILE (${file})`;
  const jwk = parseJwk(s.key ?? (await readOrCreate(file, "VIGIL_SSF_SIGNING_KEY_FILE", () => generateSetJwk(s.alg), onCreated)), where);
  const alg = setAlgorithmOf(jwk, where);
  if (alg !== s.alg) throw new SigningKeyError(`${where}: a key for ${alg}, but VIGIL_SSF_SIGNING_ALG is ${s.alg}`);
  if (typeof jwk.d !== "string") throw new SigningKeyError(`${where}: the JWK has no private part ("d")`);
  const pub: Record<string, unknown> = { ...jwk };
  for (const f of PRIVATE_JWK_FIELDS) delete pub[f];
  const kid = jwk.kid ?? (await jose.calculateJwkThumbprint(pub as jose.JWK));
  const privateKey = await jose.importJWK(jwk, alg);
  return {
    kid,
    alg,
    publicJwk: { ...(pub as jose.JWK), kid, alg, use: "sig" },
    source: where,
    sign: (claims, typ) => new jose.SignJWT(claims).setProtectedHeader({ alg, kid, typ }).sign(privateKey),
  };
}

/** The JWKS a processor publishes: the record keys (commands, statuses, verdicts), then the SET key when it is another. */
export function withSetKey(jwks: Jwks, set: SetSigner | undefined): Jwks {
  if (set === undefined || jwks.keys.some((k) => k.kid === set.kid)) return jwks;
  return { keys: [...jwks.keys, set.publicJwk] };
}

/**
 * The public JWKS for the settings (the signing key's public half and the rotation file's keys),
 * as enforcers should trust it; with the SSF transmitter's settings, its SET key too, as
 * /.well-known/jwks.json serves them.
 */
export async function publicJwks(s: SigningSettings, onCreated?: (path: string) => void, ssf?: SetSigningSettings): Promise<Jwks> {
  if (ssf === undefined) return trustedJwks(s, await loadSigningJwk(s, onCreated));
  const record = await recordSigner(s, onCreated);
  return withSetKey(record.jwks, await setSigner(ssf, record, onCreated));
}
