import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as jose from "jose";
import type { RecordKey } from "./record-jws.js";
import { SigningKeyError, algorithmOf, publicJwk, recordKey } from "./record-jws.js";

export { SigningKeyError, publicJwk };

// The processor's signing key (docs/security.md): a private JWK, Ed25519 (EdDSA) or P-256
// (ES256), given inline (VIGIL_SIGNING_KEY) or in a file (VIGIL_SIGNING_KEY_FILE; created
// with a new Ed25519 key on first start when absent, mode 0600). Its public half, plus any
// keys still published for rotation (VIGIL_SIGNING_PUBLIC_KEYS_FILE), is the JWKS readers
// trust: served at /.well-known/jwks.json and printed by `vigil keys jwks`.

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

/** A new Ed25519 private JWK whose kid is its RFC 7638 thumbprint. */
export async function generateSigningJwk(): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair("EdDSA", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: await jose.calculateJwkThumbprint(jwk), alg: "EdDSA", use: "sig" };
}

async function readOrCreate(path: string, onCreated: (path: string) => void): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new SigningKeyError(`VIGIL_SIGNING_KEY_FILE: cannot read ${path} (${String(e)})`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(await generateSigningJwk(), null, 2)}\n`;
  try {
    // Exclusive: of two processors starting at once, one writes and both use its key.
    await writeFile(path, text, { flag: "wx", mode: 0o600 });
    onCreated(path);
    return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return readFile(path, "utf8");
    throw new SigningKeyError(`VIGIL_SIGNING_KEY_FILE: cannot create ${path} (${String(e)})`);
  }
}

/** The private JWK the settings name (creating the key file if it does not exist). */
export async function loadSigningJwk(s: SigningSettings, onCreated: (path: string) => void = () => {}): Promise<jose.JWK> {
  const where = s.key !== undefined ? "VIGIL_SIGNING_KEY" : `VIGIL_SIGNING_KEY_FILE (${s.keyFile})`;
  const jwk = parseJwk(s.key ?? (await readOrCreate(s.keyFile, onCreated)), where);
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

/** The public JWKS for the settings (the signing key's public half and the rotation file's keys), as enforcers should trust it. */
export async function publicJwks(s: SigningSettings, onCreated?: (path: string) => void): Promise<Jwks> {
  return trustedJwks(s, await loadSigningJwk(s, onCreated));
}
