import { writeFile } from "node:fs/promises";
import { loadConfig } from "../../config/config.js";
import { generateSigningJwk, publicJwk, publicJwks } from "../../adapters/signing.js";

// `vigil keys generate [--out <file>]`: a new Ed25519 signing key (the private JWK to the
// file, mode 0600, never overwritten; its public JWKS on stdout). `vigil keys jwks`: the
// public JWKS enforcers should trust for the configured key (VIGIL_SIGNING_KEY[_FILE] and
// VIGIL_SIGNING_PUBLIC_KEYS_FILE), as /.well-known/jwks.json serves it: with the SSF
// transmitter on, its SET key follows when it is a key of its own (VIGIL_SSF_SIGNING_ALG).

export async function keysGenerateCommand(out: string | undefined): Promise<number> {
  const jwk = await generateSigningJwk();
  if (out) {
    try {
      await writeFile(out, `${JSON.stringify(jwk, null, 2)}\n`, { flag: "wx", mode: 0o600 });
    } catch (e) {
      process.stderr.write(
        `vigil keys generate: cannot write ${out}: ${(e as NodeJS.ErrnoException).code === "EEXIST" ? "it exists (never overwritten)" : String(e)}\n`,
      );
      return 1;
    }
    process.stderr.write(`private signing key written to ${out} (kid ${jwk.kid}); its public JWKS follows\n`);
  } else {
    process.stderr.write("no --out: the private key follows on stdout, then nothing else; keep it secret\n");
    process.stdout.write(`${JSON.stringify(jwk)}\n`);
    return 0;
  }
  process.stdout.write(`${JSON.stringify({ keys: [await publicJwk(jwk)] }, null, 2)}\n`);
  return 0;
}

export async function keysJwksCommand(env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const config = loadConfig(env);
  const jwks = await publicJwks(config.signing, (path) => process.stderr.write(`no signing key configured: generated one at ${path}\n`), config.ssf?.signing);
  process.stdout.write(`${JSON.stringify(jwks, null, 2)}\n`);
  return 0;
}
