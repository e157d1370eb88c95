import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import kafkajs from "kafkajs";
import { join } from "node:path";
import type { AgentEvent } from "../../protocol/index.js";
import { loadConfig } from "../../config/config.js";
import { startVigil } from "../../main.js";
import { createEnforcer } from "../../sdk/enforcer.js";
import type { Enforcer } from "../../sdk/enforcer.js";
import { createPublisher } from "../../sdk/publisher.js";
import type { Publisher } from "../../sdk/publisher.js";

// `vigil demo`: the whole loop on the local stack. The processor runs; agents publish
// through the publisher SDK; a small service gateway is guarded by the enforcement SDK
// (it holds each attempted call until Vigil has decided on it, then asks check()). The
// seed's story plays first — a manager's agent files a trip report and tries to approve
// it — then the other golden scenarios, alongside benign background traffic from a few
// agents. After the story, a reviewer overturns one hold through the review API and the
// gateway allows the capability again. Runs until Ctrl-C or --for seconds.
//
// It uses the standard topics, group and Redis prefix (what `vigil start` and `vigil review`
// use), so kcat, `vigil review list` and the review page show it while it runs; each run's
// sessions and events carry a run tag, so runs never mix. `--isolated` puts a run under
// its own topic and key prefix instead (for tests) and deletes its topics at the end.

const root = join(import.meta.dirname, "..", "..", "..");
const SCENARIOS = ["expense-self-approval", "secrets-reach", "exfiltration", "device-noncompliant", "benign-day"];
const HOLD_MS = 3000;

const describe = (e: AgentEvent): string => {
  switch (e.type) {
    case "session.started":
      return `starts: "${e.intent.goal}"${e.grants ? ` (holds ${e.grants.join(", ")})` : ""}`;
    case "action":
      return `calls ${e.action.capability}${e.resource?.id ? ` on ${e.resource.id}` : ""}`;
    case "action.result":
      return `gets the result of ${e.actionEventId}: ${e.outcome}, ${e.output.bytes ?? e.output.text?.length ?? 0} bytes`;
    case "context.changed":
      return `context changed: ${JSON.stringify(e.context ?? {})}`;
    case "grant.requested":
      return `asks for ${e.capability}`;
    case "intent.updated":
      return `restates the goal: "${e.intent.goal}"`;
    case "session.ended":
      return "ends";
    case "review.decided":
      return `${e.review.reviewer} ${e.review.verdict === "overturned" ? "overturns" : "confirms"} the hold${e.review.revoke ? " and revokes" : ""}`;
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
};

/** The gateway: an attempted call runs only if Vigil's state allows it. */
async function guardedCall(publisher: Publisher, enforcer: Enforcer, e: AgentEvent, out: (l: string) => void): Promise<void> {
  await publisher.publish(e);
  if (e.type !== "action") return;
  const decided = await enforcer.decided(e.sessionId, e.time, HOLD_MS);
  const verdict = enforcer.check(e.sessionId, e.action.capability, e.resource?.id);
  const tag = verdict.outcome === "allow" ? "ALLOWED" : verdict.outcome === "deny" ? "DENIED " : "STEP-UP";
  out(`      ${tag} by the gateway${verdict.outcome === "allow" ? "" : `: ${verdict.reason}`}${decided ? "" : " (no decision within the hold time)"}`);
}

/** The scenario's event for this run: session and event ids carry the run tag. */
function tagged(e: AgentEvent, tag: string): AgentEvent {
  const out = { ...e, sessionId: `${e.sessionId}-${tag}`, eventId: `${e.eventId}-${tag}` } as AgentEvent;
  return out.type === "action.result" ? { ...out, actionEventId: `${out.actionEventId}-${tag}` } : out;
}

/** A reviewer overturns the case holding `sessionId` through the review API; returns the case id, or why not. */
async function overturnThroughApi(port: number, token: string, sessionId: string): Promise<{ caseId: string } | { error: string }> {
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { body } = await call("/api/review/cases?state=pending&limit=1000");
    const found = ((body.cases ?? []) as { caseId: string; sessionId: string }[]).find((c) => c.sessionId === sessionId);
    if (found) {
      const r = await call(`/api/review/cases/${encodeURIComponent(found.caseId)}/overturn`, {
        method: "POST",
        body: JSON.stringify({ note: "the trip was approved by finance in advance" }),
      });
      return r.status === 202 ? { caseId: found.caseId } : { error: String(r.body.error) };
    }
    if (Date.now() > deadline) return { error: `no case for ${sessionId} within 15 s` };
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function demoCommand(
  env: Readonly<Record<string, string | undefined>>,
  forSeconds: number | undefined,
  paceMs: number,
  isolated = false,
): Promise<number> {
  const run = Date.now();
  const tag = run.toString(36).slice(-5);
  const reviewToken = randomBytes(18).toString("base64url");
  const runEnv = {
    ...(isolated ? { VIGIL_TOPIC_PREFIX: `demo-${run}.`, VIGIL_REDIS_PREFIX: `vigil-demo-${run}:`, VIGIL_GROUP_ID: `vigil-demo-${run}` } : {}),
    VIGIL_LOG_LEVEL: "warn",
    VIGIL_TOPIC_PARTITIONS: "3",
    // The demo's own reviewer (added to any configured ones).
    VIGIL_REVIEW_TOKENS: [`demo-reviewer:${reviewToken}`, env.VIGIL_REVIEW_TOKENS].filter(Boolean).join(","),
    ...Object.fromEntries(Object.entries(env).filter(([k]) => k !== "VIGIL_REVIEW_TOKENS")),
  };
  const config = loadConfig(runEnv);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`vigil demo: Kafka ${config.kafka.brokers.join(",")}, Redis ${config.redis.url}, topics ${config.topics.events} → ${config.topics.commands}`);
  const running = await startVigil(runEnv);
  out(`processor up; metrics on http://${config.http.host}:${running.httpPort}/metrics (Ctrl-C to stop)`);
  out(`review page: http://${config.http.host}:${running.httpPort}/review (token ${reviewToken}); or: vigil review list`);
  out(`this run's sessions end in -${tag}${isolated ? ` (isolated: topics ${config.topics.prefix}*, deleted at the end)` : ""}`);

  const brokers = config.kafka.brokers;
  const publisher = await createPublisher({ brokers, topic: config.topics.events, clientId: "demo-agents", lingerMs: 1 });
  // The gateway trusts the processor's public signing keys.
  const enforcer = await createEnforcer({
    brokers,
    topicPrefix: config.topics.prefix,
    enforcerId: "demo-gateway",
    verify: { jwks: running.jwks },
  });
  await enforcer.start();
  let commands = 0;
  enforcer.on("change", (sessionId, _view, cause) => {
    if (!("commandId" in cause)) return;
    commands++;
    const removed = cause.capabilities?.removed.length ? ` removed ${cause.capabilities.removed.join(", ")}` : "";
    out(
      `  ⇒ COMMAND ${cause.type.toUpperCase()} ${sessionId}${removed} — ${cause.reasons.map((r) => `${r.code}: ${r.message}`).join("; ")}${cause.review.required ? " [pending review]" : ""}`,
    );
  });

  let halted = false;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve)).then(() => {
    halted = true;
  });
  process.once("SIGINT", () => stop());
  process.once("SIGTERM", () => stop());
  const timer = forSeconds !== undefined ? setTimeout(() => stop(), forSeconds * 1000) : undefined;

  // Benign background traffic: a few agents reading within their declared intent.
  const background = ["wiki-bot", "calendar-bot", "ticket-bot"].map((agent, i) => ({
    agent,
    sessionId: `bg-${run}-${i}`,
    capability: ["wiki.read", "calendar.read", "tickets.read"][i] as string,
  }));
  let backgroundActions = 0;
  for (const b of background) {
    await publisher.sessionStarted({
      sessionId: b.sessionId,
      agent: { id: b.agent },
      principal: { id: `user-${b.agent}` },
      intent: { goal: `routine ${b.capability.split(".")[0]} work`, capabilities: [b.capability] },
      grants: [b.capability],
    });
  }
  const ticker = setInterval(() => {
    for (const b of background) {
      backgroundActions++;
      void publisher
        .action({
          sessionId: b.sessionId,
          agent: { id: b.agent },
          principal: { id: `user-${b.agent}` },
          action: { capability: b.capability, kind: "read" },
          resource: { id: `${b.capability}-${backgroundActions}` },
        })
        .catch(() => undefined);
    }
  }, 1000);

  for (const name of SCENARIOS) {
    if (halted) break;
    out(`\n── scenario: ${name}`);
    for (const line of readFileSync(join(root, "examples", "scenarios", `${name}.jsonl`), "utf8")
      .split("\n")
      .filter(Boolean)) {
      if (halted) break;
      const e = tagged(JSON.parse(line) as AgentEvent, tag);
      out(`  ${e.time} ${e.principal.id}/${e.agent.id} [${e.sessionId}] ${describe(e)}`);
      await guardedCall(publisher, enforcer, e, out);
      await new Promise((r) => setTimeout(r, paceMs));
    }
    if (name === "expense-self-approval" && !halted) {
      // A person looks at the first hold and overturns it: the gateway allows the approval again.
      const session = `exp-1-${tag}`;
      const verdict = await overturnThroughApi(running.httpPort, reviewToken, session);
      if ("error" in verdict) out(`  REVIEW  could not overturn the hold of ${session}: ${verdict.error}`);
      else {
        out(`  REVIEW  demo-reviewer overturns case ${verdict.caseId} for ${session} through the review API`);
        const deadline = Date.now() + 15_000;
        while (enforcer.check(session, "expense.approve", "ER-1042").outcome !== "allow" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const v = enforcer.check(session, "expense.approve", "ER-1042");
        out(
          `      ${v.outcome === "allow" ? "ALLOWED by the gateway again" : `still ${v.outcome.toUpperCase()} by the gateway: ${v.reason}`}: expense.approve on ER-1042 for ${session}`,
        );
      }
    }
  }
  if (!halted) out(`\nall scenarios played; background agents keep working (Ctrl-C to stop)`);
  await stopped;
  clearInterval(ticker);
  if (timer) clearTimeout(timer);
  out(`\nstopping: ${commands} commands seen, ${backgroundActions} background actions`);
  await publisher.close();
  await enforcer.stop();
  await running.stop();
  if (isolated) {
    // An isolated run leaves nothing behind on the broker.
    const admin = new kafkajs.Kafka({ brokers: [...brokers], clientId: "vigil-demo", logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(config.topics.prefix));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.disconnect();
    }
  }
  return commands > 0 ? 0 : 1;
}
