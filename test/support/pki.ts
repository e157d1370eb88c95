// The certificates of the client-certificate tests, made with openssl in a fresh folder: a
// reviewers' CA and a rogue one; a server certificate for 127.0.0.1 and localhost; clients
// alice and carol from the reviewers' CA, and mallory, from the rogue CA under alice's CN.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  readonly dir: string;
  file(name: string): string;
  read(name: string): Buffer;
}

export function reviewersPki(prefix: string): Pki {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const key = (name: string) => ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  const ca = (name: string) => {
    key(name);
    ssl("req", "-x509", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-days", "2", "-out", `${name}.crt`);
  };
  const issue = (name: string, cn: string, by: string, ext: string) => {
    key(name);
    ssl("req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`);
    writeFileSync(file(`${name}.ext`), ext);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${by}.crt`,
      "-CAkey",
      `${by}.key`,
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${name}.crt`,
      "-extfile",
      `${name}.ext`,
    );
  };
  ca("reviewers-ca");
  ca("rogue-ca");
  issue("server", "localhost", "reviewers-ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  issue("alice", "alice", "reviewers-ca", "extendedKeyUsage=clientAuth\n");
  issue("carol", "carol", "reviewers-ca", "extendedKeyUsage=clientAuth\n");
  issue("mallory", "alice", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  return { dir, file, read: (f) => readFileSync(file(f)) };
}
