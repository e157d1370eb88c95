import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReviewService } from "../app/review-service.js";
import { ReviewError } from "../app/review-service.js";
import type { CaseState } from "../app/cases.js";
import { REVIEW_PAGE, REVIEW_SCRIPT } from "./review-page.js";

// The review API and page on the processor's HTTP port:
//   GET  /review                               the review page (no credentials: it asks for a token and sends it with every call)
//   GET  /api/review/cases[?state=&limit=]     {"cases":[…]} (pending by default; state pending|confirmed|overturned|all)
//   GET  /api/review/cases/:caseId             {"case":{…, commands, timeline}}
//   POST /api/review/cases/:caseId/confirm     body {"note"?, "revoke"?}  → 202 {"verdict", "case"}
//   POST /api/review/cases/:caseId/overturn    body {"note"?}             → 202
// Every API call needs `Authorization: Bearer <token>` of a configured reviewer (401
// otherwise); the reviewer's name is who the verdict says decided.

export class ReviewerConfigError extends Error {}

/** Reviewers from `name:token` pairs (comma separated inline, or one per line in a file; # comments). */
export function loadReviewers(settings: { inline?: string | undefined; file?: string | undefined }): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const add = (pair: string, where: string) => {
    const i = pair.indexOf(":");
    const name = pair.slice(0, i).trim();
    const token = pair.slice(i + 1).trim();
    if (i <= 0 || name === "" || token.length < 16) throw new ReviewerConfigError(`${where}: expected name:token with a token of at least 16 characters`);
    out.set(name, digest(token));
  };
  if (settings.inline) settings.inline.split(",").forEach((p, i) => p.trim() !== "" && add(p, `VIGIL_REVIEW_TOKENS entry ${i + 1}`));
  if (settings.file) {
    const file = settings.file;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const t = line.trim();
        if (t !== "" && !t.startsWith("#")) add(t, `${file} line ${i + 1} (VIGIL_REVIEW_TOKENS_FILE)`);
      });
  }
  return out;
}

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/** The reviewer a request's bearer token names, if any (constant-time comparison of digests). */
function reviewerOf(req: IncomingMessage, reviewers: ReadonlyMap<string, Buffer>): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!m) return undefined;
  const given = digest(m[1] as string);
  let found: string | undefined;
  for (const [name, want] of reviewers) if (timingSafeEqual(given, want)) found = name;
  return found;
}

const MAX_BODY = 16 * 1024;

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ReviewError(400, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ReviewError(400, "body: not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ReviewError(400, "body: expected a JSON object");
  return parsed as Record<string, unknown>;
}

const STATES = new Set(["pending", "confirmed", "overturned", "all"]);

/** Handles the review routes; returns false for any other path. */
export function reviewRoutes(service: ReviewService, reviewers: ReadonlyMap<string, Buffer>) {
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (path !== "/review" && path !== "/review.js" && path !== "/api/review" && !path.startsWith("/api/review/")) return false;
    /** Answers with JSON; true: the request is handled. */
    const json = (status: number, value: unknown, extra: Record<string, string> = {}): true => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...extra });
      res.end(JSON.stringify(value));
      return true;
    };
    if (path === "/review" || path === "/review.js") {
      if (req.method !== "GET") return json(405, { error: "method not allowed" });
      const page = path === "/review";
      res.writeHead(200, {
        "content-type": page ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        ...(page
          ? {
              "content-security-policy":
                "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
            }
          : {}),
      });
      res.end(page ? REVIEW_PAGE : REVIEW_SCRIPT);
      return true;
    }
    const reviewer = reviewerOf(req, reviewers);
    if (reviewer === undefined) {
      json(
        401,
        { error: reviewers.size === 0 ? "no reviewers configured (VIGIL_REVIEW_TOKENS)" : "a reviewer's bearer token is required" },
        { "www-authenticate": 'Bearer realm="vigil-review"' },
      );
      return true;
    }
    const fail = (e: unknown) =>
      e instanceof ReviewError ? json(e.status, { error: e.message }) : json(500, { error: e instanceof Error ? e.message : String(e) });
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = path.split("/").filter(Boolean); // api, review, cases, :id, :action
    if (parts[2] !== "cases" || parts.length > 5) return json(404, { error: "not found" });
    const caseId = parts[3] === undefined ? undefined : decodeURIComponent(parts[3]);
    const action = parts[4];
    if (caseId === undefined) {
      if (req.method !== "GET") return json(405, { error: "method not allowed" });
      const state = url.searchParams.get("state") ?? "pending";
      const limit = Number(url.searchParams.get("limit") ?? 100);
      if (!STATES.has(state)) return json(400, { error: "state: pending, confirmed, overturned or all" });
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return json(400, { error: "limit: an integer from 1 to 1000" });
      service.list({ state: state as CaseState | "all", limit }).then((cases) => json(200, { cases }), fail);
      return true;
    }
    if (action === undefined) {
      if (req.method !== "GET") return json(405, { error: "method not allowed" });
      service.show(caseId).then((c) => json(200, { case: c }), fail);
      return true;
    }
    if (action !== "confirm" && action !== "overturn") return json(404, { error: "not found" });
    if (req.method !== "POST") return json(405, { error: "method not allowed" }, { allow: "POST" });
    body(req)
      .then((b) => {
        const note = b.note === undefined || b.note === null || b.note === "" ? undefined : b.note;
        if (note !== undefined && typeof note !== "string") throw new ReviewError(400, "note: a string");
        if (b.revoke !== undefined && typeof b.revoke !== "boolean") throw new ReviewError(400, "revoke: true or false");
        return service.decide({ caseId, verdict: action === "confirm" ? "confirmed" : "overturned", reviewer, note, revoke: b.revoke === true });
      })
      .then((r) => json(202, r), fail);
    return true;
  };
}
