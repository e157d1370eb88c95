import type { CaseChange, CaseExplanation, CaseReader, CaseSeverity, CaseState, ReviewCase } from "../../app/cases.js";
import { MAX_CASE_COMMANDS, MAX_TIMELINE, listed } from "../../app/cases.js";
import type { RedisClient, stateKeys } from "./keys.js";
import { CASE_TTL_SECONDS } from "./keys.js";
import type { Op, RedisIo, Write } from "./io.js";

// Review cases in Redis: a hash per case, its commands and timeline as lists, and two
// sorted sets (pending by opening time, decided by verdict time). Written in the batch's
// own MULTI (caseWrites), read by the review API and CLI (redisCases).

type Keys = ReturnType<typeof stateKeys>;

/** A case from its hash and lists; undefined when the hash is gone (expired). */
function caseFromHash(h: Record<string, string> | null, commands: readonly string[], timeline: readonly string[]): ReviewCase | undefined {
  if (!h || h.caseId === undefined) return undefined;
  return {
    caseId: h.caseId,
    sessionId: h.sessionId ?? "",
    agentId: h.agentId ?? "",
    principalId: h.principalId ?? "",
    state: (h.state ?? "pending") as CaseState,
    openedAt: h.openedAt ?? "",
    reasons: JSON.parse(h.reasons ?? "[]") as ReviewCase["reasons"],
    ...(h.decidedAt ? { decidedAt: h.decidedAt } : {}),
    ...(h.reviewer ? { reviewer: h.reviewer } : {}),
    ...(h.note ? { note: h.note } : {}),
    ...(h.revoked === "true" ? { revoked: true } : {}),
    ...(h.feedback ? { feedback: JSON.parse(h.feedback) as NonNullable<ReviewCase["feedback"]> } : {}),
    ...(h.explanation ? { explanation: h.explanation } : {}),
    ...(h.goal ? { goal: h.goal } : {}),
    ...(h.severity ? { severity: h.severity as CaseSeverity } : {}),
    ...(h.riskScore ? { riskScore: Number(h.riskScore) } : {}),
    ...(h.evidence ? { evidence: JSON.parse(h.evidence) as NonNullable<ReviewCase["evidence"]> } : {}),
    commands: commands.map((c) => JSON.parse(c) as ReviewCase["commands"][number]),
    timeline: timeline.map((e) => JSON.parse(e) as ReviewCase["timeline"][number]),
  };
}

/** A case's explanation as hash fields (evidence as JSON). */
const explanationFields = (e: CaseExplanation): Record<string, string> => ({
  ...(e.explanation !== undefined ? { explanation: e.explanation } : {}),
  ...(e.goal !== undefined ? { goal: e.goal } : {}),
  ...(e.severity !== undefined ? { severity: e.severity } : {}),
  ...(e.riskScore !== undefined ? { riskScore: String(e.riskScore) } : {}),
  ...(e.evidence !== undefined ? { evidence: JSON.stringify(e.evidence) } : {}),
});

/** The writes of one case change (all in the case's slot, but the two indexes). */
export function caseWrites(k: Keys, c: CaseChange): Write[] {
  if (c.kind === "open") {
    const s = c.summary;
    const key = k.case(s.caseId);
    const fields = {
      caseId: s.caseId,
      sessionId: s.sessionId,
      agentId: s.agentId,
      principalId: s.principalId,
      state: s.state,
      openedAt: s.openedAt,
      reasons: JSON.stringify(s.reasons),
      ...explanationFields(s),
    };
    const list = k.caseTimeline(s.caseId);
    return [
      { key, ops: [{ c: "hset", key, fields }] },
      ...(c.timeline.length > 0
        ? [{ key: list, ops: c.timeline.map((e): Op => ({ c: "rpush", key: list, value: JSON.stringify(e), keep: MAX_TIMELINE })) }]
        : []),
      { key: k.pending, ops: [{ c: "zadd", key: k.pending, score: Date.parse(s.openedAt), member: s.caseId }] },
    ];
  }
  const key = k.case(c.caseId);
  switch (c.kind) {
    case "reasons":
      return [{ key, ops: [{ c: "hset", key, fields: { reasons: JSON.stringify(c.reasons) } }] }];
    case "explained":
      return [{ key, ops: [{ c: "hset", key, fields: explanationFields(c.explained) }] }];
    case "command": {
      const list = k.caseCommands(c.caseId);
      return [{ key: list, ops: [{ c: "rpush", key: list, value: JSON.stringify(c.command), keep: MAX_CASE_COMMANDS }] }];
    }
    case "timeline": {
      const list = k.caseTimeline(c.caseId);
      return [{ key: list, ops: [{ c: "rpush", key: list, value: JSON.stringify(c.entry), keep: MAX_TIMELINE }] }];
    }
    case "decided": {
      const at = Date.parse(c.decidedAt);
      const fields = {
        state: c.state,
        decidedAt: c.decidedAt,
        reviewer: c.reviewer,
        ...(c.note ? { note: c.note } : {}),
        ...(c.revoked ? { revoked: "true" } : {}),
        ...(c.feedback ? { feedback: JSON.stringify(c.feedback) } : {}),
      };
      return [
        {
          key,
          ops: [
            { c: "hset", key, fields },
            { c: "expire", key, seconds: CASE_TTL_SECONDS },
            { c: "expire", key: k.caseCommands(c.caseId), seconds: CASE_TTL_SECONDS },
            { c: "expire", key: k.caseTimeline(c.caseId), seconds: CASE_TTL_SECONDS },
          ],
        },
        { key: k.pending, ops: [{ c: "zrem", key: k.pending, member: c.caseId }] },
        {
          key: k.decided,
          ops: [
            { c: "zadd", key: k.decided, score: at, member: c.caseId },
            { c: "zcut", key: k.decided, below: at - CASE_TTL_SECONDS * 1000 },
          ],
        },
      ];
    }
    default: {
      const _exhaustive: never = c;
      return _exhaustive;
    }
  }
}

/** The review API's and CLI's reads. */
export function redisCases(redis: RedisClient, k: Keys, io: Pick<RedisIo, "readAll">): CaseReader {
  const { readAll } = io;
  return {
    async listCases(filter = {}) {
      const state = filter.state ?? "pending";
      const limit = filter.limit ?? 100;
      const ids = new Set<string>();
      const p = redis.pipeline();
      if (state === "pending" || state === "all") p.zrevrange(k.pending, 0, limit - 1);
      if (state !== "pending") p.zrevrange(k.decided, 0, 10 * limit - 1);
      for (const [err, v] of (await p.exec()) ?? []) {
        if (err) throw err;
        for (const id of v as string[]) ids.add(id);
      }
      const values = await readAll([...ids].map((id) => ({ key: k.case(id), hash: true })));
      return listed(
        values.map((v) => caseFromHash(v as Record<string, string>, [], [])).filter((x): x is ReviewCase => x !== undefined),
        filter,
      );
    },
    async getCase(caseId: string) {
      const [hash, commands, timeline] = await readAll([
        { key: k.case(caseId), hash: true },
        { key: k.caseCommands(caseId), list: MAX_CASE_COMMANDS },
        { key: k.caseTimeline(caseId), list: MAX_TIMELINE },
      ]);
      return caseFromHash(hash as Record<string, string>, commands as string[], timeline as string[]);
    },
    pendingCount: () => redis.zcard(k.pending),
  };
}
