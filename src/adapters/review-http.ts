import type { Context } from "hono";
import type { ReviewService } from "../app/review-service.js";
import { ReviewError } from "../app/review-service.js";
import type { CaseState } from "../app/cases.js";
import { REVIEW_PAGE, REVIEW_SCRIPT } from "./review-page.js";
import { HttpError, bodyCap, door, jsonBody, noStoreJson, pathParam, queryParam, resource } from "./http-app.js";
import type { Door, DoorEnv } from "./http-app.js";
import { loadBearerTokens, requireAuth } from "./http-auth.js";

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

const PAGE_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'";

const fromReviewError = (e: unknown): HttpError | undefined => (e instanceof ReviewError ? new HttpError(e.status, e.message) : undefined);

/** The review page and API, to mount on the HTTP app. */
export function reviewDoor(service: ReviewService, reviewers: ReadonlyMap<string, Buffer>, certificateSubjects: ReadonlySet<string> = new Set()): Door {
  const app = door(fromReviewError);
  resource(app, "/review", {
    GET: (c) => c.body(REVIEW_PAGE, 200, { ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_POLICY }),
  });
  resource(app, "/review.js", { GET: (c) => c.body(REVIEW_SCRIPT, 200, { ...PAGE_HEADERS, "content-type": "text/javascript; charset=utf-8" }) });

  const auth = requireAuth({
    tokens: reviewers,
    certificateSubjects,
    realm: "vigil-review",
    who: "a reviewer",
    unconfigured: "no reviewers configured (VIGIL_REVIEW_TOKENS, VIGIL_REVIEW_MTLS_SUBJECTS)",
  });
  app.use("/api/review", auth);
  app.use("/api/review/*", auth);
  resource(app, "/api/review/cases", {
    GET: async (c) => {
      const state = queryParam(c, "state") ?? "pending";
      const limit = Number(queryParam(c, "limit") ?? 100);
      if (!STATES.has(state)) throw new HttpError(400, "state: pending, confirmed, overturned or all");
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, "limit: an integer from 1 to 1000");
      return noStoreJson(c, { cases: await service.list({ state: state as CaseState | "all", limit }) });
    },
  });
  resource(app, "/api/review/cases/:caseId", { GET: async (c) => noStoreJson(c, { case: await service.show(pathParam(c, "caseId")) }) });
  const decide = (verdict: "confirmed" | "overturned") => async (c: Context<DoorEnv>) => {
    const caseId = pathParam(c, "caseId");
    const b = jsonBody(c);
    const note = b.note === undefined || b.note === null || b.note === "" ? undefined : b.note;
    if (note !== undefined && typeof note !== "string") throw new HttpError(400, "note: a string");
    if (b.revoke !== undefined && typeof b.revoke !== "boolean") throw new HttpError(400, "revoke: true or false");
    return noStoreJson(c, await service.decide({ caseId, verdict, reviewer: c.get("caller").name, note, revoke: b.revoke === true }), 202);
  };
  resource(app, "/api/review/cases/:caseId/confirm", { POST: [bodyCap({ maxBytes: MAX_BODY }), decide("confirmed")] });
  resource(app, "/api/review/cases/:caseId/overturn", { POST: [bodyCap({ maxBytes: MAX_BODY }), decide("overturned")] });
  return app;
}
