import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import kafkajs from "kafkajs";
import { loadConfig } from "../../config/config.js";
import { createKafka } from "../../adapters/kafka/client.js";
import { verdictPublisher } from "../../adapters/kafka/verdicts.js";
import { commandLogger } from "../../adapters/logger.js";
import { redisState } from "../../adapters/redis/redis-state.js";
import { SigningKeyError, recordSigner } from "../../adapters/signing.js";
import type { CaseState, CaseSummary, ReviewCase } from "../../app/cases.js";
import { ReviewError, reviewService } from "../../app/review-service.js";
import type { ReviewService } from "../../app/review-service.js";
import { redisClient } from "../../adapters/redis/client.js";
import type { ReviewDecidedEvent } from "../../protocol/index.js";

// `vigil review list|show|confirm|overturn`: the review queue from a terminal, against the
// same configuration as `vigil start` (its Redis for the cases; its Kafka and signing key
// for verdicts, which go to vigil.reviews like the HTTP API's).

type Env = Readonly<Record<string, string | undefined>>;
const out = (s: string) => process.stdout.write(s);

async function withService<T>(env: Env, publishing: boolean, f: (s: ReviewService) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const log = commandLogger(config.logLevel);
  const redis = redisClient(config.redis);
  redis.on("error", () => {});
  let producer: kafkajs.Producer | undefined;
  try {
    const state = redisState(redis, { prefix: config.redis.prefix, sessionTtlSeconds: config.redis.sessionTtlSeconds });
    let publish: (verdict: ReviewDecidedEvent) => Promise<void> = async () => {
      throw new Error("not publishing");
    };
    if (publishing) {
      // The processor's own key: a new one would sign verdicts nobody trusts.
      if (config.signing.key === undefined && !existsSync(config.signing.keyFile))
        throw new SigningKeyError(
          `no signing key at ${config.signing.keyFile} (VIGIL_SIGNING_KEY_FILE) or in VIGIL_SIGNING_KEY: run where the processor's key is`,
        );
      const signer = await recordSigner(config.signing);
      producer = createKafka(config, log, "-review").producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      publish = verdictPublisher(producer, config.topics.reviews, signer);
    }
    return await f(reviewService({ cases: state, publish, now: () => Date.now(), newId: () => randomUUID() }));
  } finally {
    await producer?.disconnect();
    redis.disconnect();
  }
}

const reasonsText = (c: CaseSummary) => c.reasons.map((r) => `${r.code}${r.capability ? ` (${r.capability})` : ""}`).join(", ");

export async function reviewListCommand(env: Env, o: { json?: boolean | undefined; state?: string | undefined }): Promise<number> {
  const state = (o.state ?? "pending") as CaseState | "all";
  if (!["pending", "confirmed", "overturned", "all"].includes(state)) throw new ReviewError(400, "--state: pending, confirmed, overturned or all");
  const cases = await withService(env, false, (s) => s.list({ state, limit: 1000 }));
  if (o.json) {
    out(`${JSON.stringify({ cases })}\n`);
    return 0;
  }
  if (cases.length === 0) out(state === "pending" ? "no case is waiting\n" : "no case\n");
  for (const c of cases)
    out(
      `${c.caseId}\t${c.state}\t${c.severity ?? "-"}\t${c.openedAt}\t${c.sessionId}\tagent ${c.agentId}\tprincipal ${c.principalId}\t${reasonsText(c)}${c.explanation ? `\t${c.explanation}` : ""}\n`,
    );
  return 0;
}

export async function reviewShowCommand(env: Env, caseId: string, o: { json?: boolean | undefined }): Promise<number> {
  const c: ReviewCase = await withService(env, false, (s) => s.show(caseId));
  if (o.json) {
    out(`${JSON.stringify({ case: c })}\n`);
    return 0;
  }
  out(`case ${c.caseId}: ${c.state}${c.reviewer ? ` by ${c.reviewer} at ${c.decidedAt}${c.note ? ` ("${c.note}")` : ""}` : ""}\n`);
  out(`session ${c.sessionId}, agent ${c.agentId}, principal ${c.principalId}, opened ${c.openedAt}\n`);
  if (c.severity) out(`severity: ${c.severity}${c.riskScore !== undefined ? ` (risk ${c.riskScore})` : ""}\n`);
  out(`why: ${c.explanation ?? "(no explanation recorded: the case was opened before Vigil explained holds)"}\n`);
  out(`goal: ${c.goal !== undefined ? `"${c.goal}"` : "(none declared)"}\n`);
  out(`reasons: ${reasonsText(c)}\n`);
  if (c.evidence && c.evidence.length > 0) {
    out("evidence:\n");
    for (const e of c.evidence)
      out(
        `  ${e.role.padEnd(8)}  ${e.time ?? "-"}  ${e.eventId}  session ${e.sessionId}${e.sessionId === c.sessionId ? " (this one)" : ""}${e.agentId ? `, agent ${e.agentId}` : ""}${e.capability ? `  ${e.capability}` : ""}${e.code ? `  [${e.code}]` : ""}\n`,
      );
  }
  out("commands:\n");
  for (const cmd of c.commands) out(`  ${cmd.time}  ${cmd.type}  ${cmd.commandId}  ${cmd.reasons.join(", ")}\n`);
  out("timeline:\n");
  for (const e of c.timeline)
    out(
      `  ${e.time}  ${e.type}${e.capability ? ` ${e.capability}` : ""}${e.resourceId ? ` on ${e.resourceId}` : ""}${e.level ? `  → ${e.level}` : ""}${e.findings ? `  [${e.findings.map((f) => f.code).join(", ")}]` : ""}\n`,
    );
  return 0;
}

export async function reviewDecideCommand(
  env: Env,
  caseId: string,
  verdict: "confirmed" | "overturned",
  o: { by?: string | undefined; note?: string | undefined; revoke?: boolean | undefined },
): Promise<number> {
  if (!o.by) throw new ReviewError(400, "--by <reviewer> is required: who decides");
  const r = await withService(env, true, (s) => s.decide({ caseId, verdict, reviewer: o.by as string, note: o.note, revoke: o.revoke }));
  out(
    `${verdict === "overturned" ? "overturned" : o.revoke ? "confirmed and revoked" : "confirmed"}: case ${r.case.caseId} (session ${r.case.sessionId}), verdict ${r.verdict.eventId} on the reviews topic; the processor applies it in the session's order\n`,
  );
  return 0;
}
