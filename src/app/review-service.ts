import { ReviewDecided } from "../protocol/index.js";
import type { ReviewDecidedEvent } from "../protocol/index.js";
import type { CaseReader, CaseState, CaseSummary, ReviewCase } from "./cases.js";
import { summaryOf } from "./cases.js";

// What a reviewer can do, whatever the door (CLI or HTTP): list cases, look at one, decide
// one. A decision becomes a `review.decided` record on vigil.reviews (signed by the adapter
// that publishes it); the processor applies it in the session's order, so the case stays
// pending until then. Deciding a case that is not pending is refused (409), not repeated.

const REVIEW_ERROR_CODES = { 400: "bad_request", 404: "not_found", 409: "conflict" } as const;

/** A review request refused: 400 (a bad verdict or option), 404 (no such case), 409 (the case is already decided). */
export class ReviewError extends Error {
  readonly code: (typeof REVIEW_ERROR_CODES)[keyof typeof REVIEW_ERROR_CODES];
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.code = REVIEW_ERROR_CODES[status];
  }
}

export interface Decision {
  readonly caseId: string;
  readonly verdict: "confirmed" | "overturned";
  readonly reviewer: string;
  readonly note?: string | undefined;
  /** Confirm and escalate to a revocation. */
  readonly revoke?: boolean | undefined;
}

export interface ReviewServiceDeps {
  readonly cases: CaseReader;
  /** Publishes a verdict (signed) on vigil.reviews. */
  readonly publish: (verdict: ReviewDecidedEvent) => Promise<void>;
  readonly now: () => number;
  readonly newId: () => string;
}

export interface ReviewService {
  list(filter?: { state?: CaseState | "all"; limit?: number }): Promise<CaseSummary[]>;
  show(caseId: string): Promise<ReviewCase>;
  decide(decision: Decision): Promise<{ verdict: ReviewDecidedEvent; case: CaseSummary }>;
}

export function reviewService(d: ReviewServiceDeps): ReviewService {
  const show = async (caseId: string): Promise<ReviewCase> => {
    const found = await d.cases.getCase(caseId);
    if (!found) throw new ReviewError(404, `no review case ${caseId}`);
    return found;
  };
  return {
    list: (filter) => d.cases.listCases(filter),
    show,
    async decide(decision) {
      if (decision.revoke && decision.verdict !== "confirmed") throw new ReviewError(400, "revoke goes with confirm only");
      const found = await show(decision.caseId);
      if (found.state !== "pending")
        throw new ReviewError(409, `case ${found.caseId} is already ${found.state}${found.reviewer ? ` (by ${found.reviewer})` : ""}`);
      const parsed = ReviewDecided.safeParse({
        eventId: `verdict-${d.newId()}`,
        type: "review.decided",
        sessionId: found.sessionId,
        time: new Date(d.now()).toISOString(),
        agent: { id: found.agentId },
        principal: { id: found.principalId },
        review: {
          caseId: found.caseId,
          verdict: decision.verdict,
          ...(decision.revoke ? { revoke: true } : {}),
          reviewer: decision.reviewer,
          ...(decision.note ? { note: decision.note } : {}),
        },
      });
      if (!parsed.success) throw new ReviewError(400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      await d.publish(parsed.data);
      return { verdict: parsed.data, case: summaryOf(found) };
    },
  };
}
