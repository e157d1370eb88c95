import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "./http-app.js";
import type { Caller, DoorEnv } from "./http-app.js";

// Who an HTTP request speaks for: named bearer tokens from configuration (compared as SHA-256
// digests in constant time) and, over HTTPS with a client CA, verified client certificates
// whose subject CN is listed. requireAuth is the one middleware every door that needs a caller
// puts in front of its paths (the review API, SSF, and the doors to come).

export class TokenConfigError extends Error {
  readonly code = "TOKENS_INVALID";
}

export interface TokenSettings {
  readonly inline?: string | undefined;
  readonly file?: string | undefined;
  /** The variables that set them, for errors. */
  readonly inlineVariable: string;
  readonly fileVariable: string;
  /** Where a `name:token` pair splits: at the first colon (names without one), or the last (names may be URLs; tokens hold no colon). */
  readonly split: "first" | "last";
}

const MIN_TOKEN = 16;
const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/** Names and their tokens' digests from `name:token` pairs (comma separated inline, or one per line in a file; # comments). */
export function loadBearerTokens(s: TokenSettings): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const add = (pair: string, where: string) => {
    const i = s.split === "first" ? pair.indexOf(":") : pair.lastIndexOf(":");
    const name = pair.slice(0, i).trim();
    const token = pair.slice(i + 1).trim();
    if (i <= 0 || name === "" || token.length < MIN_TOKEN)
      throw new TokenConfigError(`${where}: expected name:token with a token of at least ${MIN_TOKEN} characters`);
    out.set(name, digest(token));
  };
  if (s.inline) s.inline.split(",").forEach((p, i) => p.trim() !== "" && add(p, `${s.inlineVariable} entry ${i + 1}`));
  if (s.file) {
    const file = s.file;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new TokenConfigError(`${s.fileVariable}: cannot read ${file} (${e instanceof Error ? e.message : String(e)})`);
    }
    text.split("\n").forEach((line, i) => {
      const t = line.trim();
      if (t !== "" && !t.startsWith("#")) add(t, `${file} line ${i + 1} (${s.fileVariable})`);
    });
  }
  return out;
}

/** The name a bearer `Authorization` header's token belongs to, if any (every name compared, in constant time). */
export function tokenName(authorization: string | undefined, tokens: ReadonlyMap<string, Buffer>): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!m) return undefined;
  const given = digest(m[1] as string);
  let found: string | undefined;
  for (const [name, want] of tokens) if (timingSafeEqual(given, want)) found = name;
  return found;
}

/** The name a request's bearer token belongs to, if any. */
export const bearerName = (req: IncomingMessage, tokens: ReadonlyMap<string, Buffer>): string | undefined => tokenName(req.headers.authorization, tokens);

/** The subject CN of the request's client certificate when it verified against the client CA and is listed in `subjects`. */
export function certificateName(req: IncomingMessage | undefined, subjects: ReadonlySet<string>): string | undefined {
  const socket = req?.socket as TLSSocket | undefined;
  if (subjects.size === 0 || !socket?.encrypted || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? undefined : cn;
  return name !== undefined && subjects.has(name) ? name : undefined;
}

export interface AuthOptions {
  /** Names and their tokens' digests (loadBearerTokens). */
  readonly tokens: ReadonlyMap<string, Buffer>;
  /** Client-certificate subject CNs that are callers too (HTTPS with VIGIL_HTTP_TLS_CLIENT_CA_FILE); given, even empty, the 401 says a certificate would do. */
  readonly certificateSubjects?: ReadonlySet<string> | undefined;
  /** The WWW-Authenticate realm of the 401, e.g. "vigil-review". */
  readonly realm: string;
  /** Who the door expects, for the 401: "a reviewer" → "a reviewer's bearer token is required". */
  readonly who: string;
  /** The 401 when no caller is configured at all, naming the variables that would configure one. */
  readonly unconfigured: string;
  /** Whether a known caller may make this request (403 when not); every known caller may when absent. */
  readonly allow?: (caller: Caller, c: Context<DoorEnv>) => boolean;
}

/**
 * Lets through only requests from a known caller, which it sets as `c.get("caller")`: a
 * listed bearer token, else a listed client certificate. 401 with WWW-Authenticate for
 * anyone else; 403 for a caller that `allow` refuses.
 */
export function requireAuth(o: AuthOptions): MiddlewareHandler<DoorEnv> {
  const subjects = o.certificateSubjects ?? new Set<string>();
  const unauthorized = () =>
    new HttpError(
      401,
      o.tokens.size === 0 && subjects.size === 0
        ? o.unconfigured
        : `${o.who}'s bearer token${o.certificateSubjects ? " or client certificate" : ""} is required`,
      { headers: { "www-authenticate": `Bearer realm="${o.realm}"` } },
    );
  return async (c, next) => {
    const token = tokenName(c.req.header("authorization"), o.tokens);
    const certificate = token === undefined ? certificateName(c.env?.incoming, subjects) : undefined;
    const caller: Caller | undefined =
      token !== undefined ? { name: token, via: "token" } : certificate !== undefined ? { name: certificate, via: "certificate" } : undefined;
    if (caller === undefined) throw unauthorized();
    if (o.allow && !o.allow(caller, c)) throw new HttpError(403, `${caller.name} may not ${c.req.method} ${c.req.path}`);
    c.set("caller", caller);
    await next();
  };
}
