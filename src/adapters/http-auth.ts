import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";

// What the review API and the SSF endpoints share: named bearer tokens from configuration
// (compared as SHA-256 digests in constant time) and a capped JSON body reader.

export class TokenConfigError extends Error {}

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

/** The name a request's bearer token belongs to, if any (every name compared, in constant time). */
export function bearerName(req: IncomingMessage, tokens: ReadonlyMap<string, Buffer>): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!m) return undefined;
  const given = digest(m[1] as string);
  let found: string | undefined;
  for (const [name, want] of tokens) if (timingSafeEqual(given, want)) found = name;
  return found;
}

export class HttpInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request's JSON object body (`{}` when empty); 400 for anything else, 413 past `maxBytes`. */
export async function jsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpInputError(413, `request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpInputError(400, "body: not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpInputError(400, "body: expected a JSON object");
  return parsed as Record<string, unknown>;
}

/** A path segment, percent-decoded; 400 for a malformed escape (decodeURIComponent would throw). */
export function pathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpInputError(400, `${name}: malformed percent-encoding in the path`);
  }
}
