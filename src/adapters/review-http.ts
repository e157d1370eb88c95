import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { ReviewService } from "../app/review-service.js";
import { ReviewError } from "../app/review-service.js";
import type { CaseState } from "../app/cases.js";
import { REVIEW_PAGE, REVIEW_SCRIPT } from "./review-page.js";
import { HttpInputError, bearerName, jsonBody, loadBearerTokens, pathSegment } from "./http-auth.js";

// The review API and page on the processor's HTTP port:
//   GET  /review                               the review page (no credentials: it asks for a token and sends it with every call)
//   GET  /api/review/cases[?state=&limit=]     {"cases":[…]} (pending by default; state pending|confirmed|overturned|all)
//   GET  /api/review/cases/:caseId             {"case":{…, commands, timeline}}
//   POST /api/review/cases/:caseId/confirm     body {"note"?, "revoke"?}  → 202 {"verdict", "case"}
//   POST /api/review/cases/:caseId/overturn    body {"note"?}             → 202
// Every API call needs a configured reviewer (401 otherwise): `Authorization: Bearer <token>`,
// or over HTTPS a client certificate verified against the client CA whose subject CN is
// listed (VIGIL_REVIEW_MTLS_SUBJECTS). The reviewer's name is who the verdict says decided.

/** Reviewers from `name:token` pairs (VIGIL_REVIEW_TOKENS, comma separated, and/or one per line in VIGIL_REVIEW_TOKENS_FILE). */
export const loadReviewers = (settings: { inline?: string | undefined; file?: string | undefined }): Map<string, Buffer> =>
  loadBearerTokens({ ...settings, inlineVariable: "VIGIL_REVIEW_TOKENS", fileVariable: "VIGIL_REVIEW_TOKENS_FILE", split: "first" });

const MAX_BODY = 16 * 1024;

const STATES = new Set(["pending", "confirmed", "overturned", "all"]);

/** The reviewer a verified client certificate names: its subject CN, when listed in VIGIL_REVIEW_MTLS_SUBJECTS. */
function certificateReviewer(req: IncomingMessage, subjects: ReadonlySet<string>): string | undefined {
  const socket = req.socket as TLSSocket;
  if (subjects.size === 0 || !socket.encrypted || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? undefined : cn;
  return name !== undefined && subjects.has(name) ? name : undefined;
}

/** Handles the review routes; returns false for any other path. */
export function reviewRoutes(service: ReviewService, reviewers: ReadonlyMap<string, Buffer>, certificateSubjects: ReadonlySet<string> = new Set()) {
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
    const reviewer = bearerName(req, reviewers) ?? certificateReviewer(req, certificateSubjects);
    if (reviewer === undefined) {
      json(
        401,
        {
          error:
            reviewers.size === 0 && certificateSubjects.size === 0
              ? "no reviewers configured (VIGIL_REVIEW_TOKENS, VIGIL_REVIEW_MTLS_SUBJECTS)"
              : "a reviewer's bearer token or client certificate is required",
        },
        { "www-authenticate": 'Bearer realm="vigil-review"' },
      );
      return true;
    }
    const fail = (e: unknown) =>
      e instanceof ReviewError || e instanceof HttpInputError
        ? json(e.status, { error: e.message })
        : json(500, { error: e instanceof Error ? e.message : String(e) });
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = path.split("/").filter(Boolean); // api, review, cases, :id, :action
    if (parts[2] !== "cases" || parts.length > 5) return json(404, { error: "not found" });
    let caseId: string | undefined;
    try {
      caseId = parts[3] === undefined ? undefined : pathSegment(parts[3], "caseId");
    } catch (e) {
      return fail(e);
    }
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
    jsonBody(req, MAX_BODY)
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
