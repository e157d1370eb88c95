import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import kafkajs from "kafkajs";
import type { AgentEvent, Command } from "../../protocol/index.js";
import { loadConfig } from "../../config/config.js";
import { startVigil } from "../../main.js";

// `vigil demo`: the live processor on the local stack, fed the golden scenarios one event
// at a time (the seed's expense story first), printing each event and each command as it
// happens. Runs until Ctrl-C or --for seconds. Topics and Redis keys get a per-run prefix
// so every demo starts from a clean slate.

const root = join(import.meta.dirname, "..", "..", "..");
const ORDER = ["expense-self-approval", "secrets-reach", "exfiltration", "device-noncompliant", "benign-day"];

const describe = (e: AgentEvent): string => {
  switch (e.type) {
    case "session.started":
      return `starts: "${e.intent.goal}"${e.grants ? ` (grants ${e.grants.join(", ")})` : ""}`;
    case "action":
      return `${e.action.capability}${e.resource?.id ? ` on ${e.resource.id}` : ""}`;
    case "context.changed":
      return `context changed: ${JSON.stringify(e.context ?? {})}`;
    case "grant.requested":
      return `asks for ${e.capability}`;
    case "intent.updated":
      return `restates the goal: "${e.intent.goal}"`;
    case "session.ended":
      return "ends";
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
};

export async function demoCommand(env: Readonly<Record<string, string | undefined>>, forSeconds: number | undefined, paceMs: number): Promise<number> {
  const runEnv = { VIGIL_TOPIC_PREFIX: `demo-${Date.now()}.`, VIGIL_REDIS_PREFIX: `vigil-demo-${Date.now()}:`, VIGIL_GROUP_ID: `vigil-demo-${Date.now()}`, VIGIL_LOG_LEVEL: "warn", VIGIL_TOPIC_PARTITIONS: "1", ...env };
  const config = loadConfig(runEnv);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`vigil demo: Kafka ${config.kafka.brokers.join(",")}, Redis ${config.redis.url}, topics ${config.topics.events} → ${config.topics.commands}`);
  const running = await startVigil(runEnv);
  out(`processor up; metrics on http://${config.http.host}:${running.httpPort}/metrics (Ctrl-C to stop)`);

  const kafka = new kafkajs.Kafka({ brokers: [...config.kafka.brokers], clientId: "vigil-demo", logLevel: kafkajs.logLevel.NOTHING });
  const watcher = kafka.consumer({ groupId: `${config.kafka.groupId}-watch`, maxWaitTimeInMs: 200 });
  await watcher.connect();
  await watcher.subscribe({ topics: [config.topics.commands], fromBeginning: true });
  let commands = 0;
  await watcher.run({
    eachMessage: async ({ message }) => {
      const c = JSON.parse(message.value?.toString("utf8") ?? "{}") as Command;
      commands++;
      const removed = c.capabilities?.removed.length ? ` removed ${c.capabilities.removed.join(", ")}` : "";
      out(`  ⇒ COMMAND ${c.type.toUpperCase()} ${c.sessionId}${removed} — ${c.reasons.map((r) => `${r.code}: ${r.message}`).join("; ")}${c.review.required ? " [pending review]" : ""}`);
    },
  });

  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once("SIGINT", () => stop());
  process.once("SIGTERM", () => stop());
  const timer = forSeconds !== undefined ? setTimeout(() => stop(), forSeconds * 1000) : undefined;

  const producer = kafka.producer();
  await producer.connect();
  const dir = join(root, "test", "golden", "scenarios");
  const files = readdirSync(dir).map((f) => f.replace(/\.jsonl$/, "")).sort((a, b) => (ORDER.indexOf(a) + 99) % 99 - ((ORDER.indexOf(b) + 99) % 99));
  let halted = false;
  void stopped.then(() => (halted = true));
  for (const name of files) {
    if (halted) break;
    out(`\n── scenario: ${name}`);
    for (const line of readFileSync(join(dir, `${name}.jsonl`), "utf8").split("\n").filter(Boolean)) {
      if (halted) break;
      const e = JSON.parse(line) as AgentEvent;
      out(`  ${e.time} ${e.principal.id}/${e.agent.id} [${e.sessionId}] ${describe(e)}`);
      await producer.send({ topic: config.topics.events, messages: [{ key: e.sessionId, value: line }] });
      await new Promise((r) => setTimeout(r, paceMs));
    }
  }
  if (!halted) out("\nall scenarios published; watching for commands (Ctrl-C to stop)");
  await stopped;
  if (timer) clearTimeout(timer);
  out(`\nstopping: ${commands} commands seen`);
  await producer.disconnect();
  await watcher.disconnect();
  await running.stop();
  return commands > 0 ? 0 : 1;
}
