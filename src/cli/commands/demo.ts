import { readFileSync } from "node:fs";
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
// agents. Runs until Ctrl-C or --for seconds; topics and Redis keys get a per-run prefix.

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

export async function demoCommand(env: Readonly<Record<string, string | undefined>>, forSeconds: number | undefined, paceMs: number): Promise<number> {
  const run = Date.now();
  const runEnv = {
    VIGIL_TOPIC_PREFIX: `demo-${run}.`,
    VIGIL_REDIS_PREFIX: `vigil-demo-${run}:`,
    VIGIL_GROUP_ID: `vigil-demo-${run}`,
    VIGIL_LOG_LEVEL: "warn",
    VIGIL_TOPIC_PARTITIONS: "3",
    ...env,
  };
  const config = loadConfig(runEnv);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`vigil demo: Kafka ${config.kafka.brokers.join(",")}, Redis ${config.redis.url}, topics ${config.topics.events} → ${config.topics.commands}`);
  const running = await startVigil(runEnv);
  out(`processor up; metrics on http://${config.http.host}:${running.httpPort}/metrics (Ctrl-C to stop)`);

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
      const e = JSON.parse(line) as AgentEvent;
      out(`  ${e.time} ${e.principal.id}/${e.agent.id} [${e.sessionId}] ${describe(e)}`);
      await guardedCall(publisher, enforcer, e, out);
      await new Promise((r) => setTimeout(r, paceMs));
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
  return commands > 0 ? 0 : 1;
}
