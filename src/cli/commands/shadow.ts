import { loadConfig } from "../../config/config.js";
import { createKafka } from "../../adapters/kafka/client.js";
import { decodeEvent } from "../../adapters/kafka/event-decoder.js";
import { readTopicToEnd } from "../../adapters/kafka/topic-reader.js";
import { readJsonlFiles } from "../../adapters/jsonl-files.js";
import { commandLogger } from "../../adapters/logger.js";
import { loadPolicy } from "../../adapters/policy-file.js";
import { schemaRegistry } from "../../adapters/schema-registry.js";
import { decodeLine } from "../../app/line-decoder.js";
import type { ShadowReport } from "../../app/shadow.js";
import { shadowRun } from "../../app/shadow.js";

// `vigil shadow`: what a policy change would change, before it ships. The same events (files,
// or the retained vigil.events with --from-topic) through the policy in force and a candidate.

type Env = Readonly<Record<string, string | undefined>>;

export interface ShadowOptions {
  readonly files: readonly string[];
  readonly policy: string;
  readonly baseline?: string | undefined;
  readonly json?: boolean | undefined;
  readonly fromTopic?: boolean | undefined;
  readonly limit?: number | undefined;
}

export async function shadowCommand(env: Env, o: ShadowOptions): Promise<number> {
  const baselinePath = o.baseline ?? (env.VIGIL_POLICY_FILE || undefined);
  const run = shadowRun(loadPolicy(baselinePath), loadPolicy(o.policy));
  let rejected = 0;
  if (o.fromTopic) {
    const config = loadConfig(env);
    const registry = config.registryUrl ? schemaRegistry(config.registryUrl) : undefined;
    const kafka = createKafka(config, commandLogger(config.logLevel), "-shadow");
    await readTopicToEnd(kafka, config.topics.events, async (m) => {
      const decoded = await decodeEvent(m.value, config.maxMessageBytes, registry);
      if (decoded.ok) run.handle(decoded.event);
      else rejected++;
    });
  } else {
    for await (const { text } of readJsonlFiles(o.files)) {
      const decoded = decodeLine(text);
      if (decoded.ok === true) run.handle(decoded.event);
      else if (decoded.ok === false) rejected++;
    }
  }
  const report = run.report(o.limit ?? 100);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...report, rejected, baselinePolicy: baselinePath ?? "default", candidatePolicy: o.policy })}\n`);
  else process.stdout.write(text(report, rejected, baselinePath ?? "the shipped default", o.policy));
  return 0;
}

function text(r: ShadowReport, rejected: number, baseline: string, candidate: string): string {
  const types = (c: ShadowReport["baseline"]) =>
    Object.entries(c.byType)
      .sort()
      .map(([t, n]) => `${t} ${n}`)
      .join(", ") || "none";
  const lines = [
    `baseline  (${baseline}): ${r.baseline.events} events, ${r.baseline.sessions} sessions, ${r.baseline.commands} commands (${types(r.baseline)}), ${r.baseline.sessionsActedOn} sessions acted on`,
    `candidate (${candidate}): ${r.candidate.commands} commands (${types(r.candidate)}), ${r.candidate.sessionsActedOn} sessions acted on`,
    `change: ${r.added} commands added, ${r.removed} removed, ${r.modified} changed, in ${r.changedSessions} sessions${rejected > 0 ? ` (${rejected} lines not events, skipped)` : ""}`,
  ];
  const table = (title: string, m: ShadowReport["byReason"]) => {
    const rows = Object.entries(m).sort((x, y) => y[1].added + y[1].removed + y[1].changed - (x[1].added + x[1].removed + x[1].changed));
    if (rows.length === 0) return;
    lines.push(`${title}:`);
    for (const [k, v] of rows.slice(0, 20)) lines.push(`  ${k}: +${v.added} -${v.removed} ~${v.changed}`);
  };
  table("by reason", r.byReason);
  table("by agent", r.byAgent);
  for (const c of r.changed) {
    const show = (list: ShadowReport["changed"][number]["baseline"]) => list.map((x) => `${x.type}[${x.reasons.join(",")}]`).join(" ") || "nothing";
    lines.push(`session ${c.sessionId} (agent ${c.agentId}): ${show(c.baseline)}  →  ${show(c.candidate)}`);
  }
  return `${lines.join("\n")}\n`;
}
