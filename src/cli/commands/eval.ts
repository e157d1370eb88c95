import { readFileSync } from "node:fs";
import type { SessionOutcome } from "../../tooling/evaluate.js";
import { Evaluator, formatReport } from "../../tooling/evaluate.js";
import { runReplay, summaryText } from "./replay.js";

export interface EvalOptions {
  files: string[];
  policy?: string;
  sessions?: string;
  json?: boolean;
}

function readOutcomes(path: string): Map<string, SessionOutcome> {
  const map = new Map<string, SessionOutcome>();
  for (const [i, line] of readFileSync(path, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    try {
      const o = JSON.parse(line) as { sessionId?: unknown; security?: unknown; injected?: unknown };
      if (typeof o.sessionId !== "string") throw new Error("sessionId: expected string");
      map.set(o.sessionId, { security: o.security === true ? true : o.security === false ? false : null, injected: o.injected === true });
    } catch (e) {
      throw new Error(`${path}:${i + 1}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return map;
}

export async function evalCommand(o: EvalOptions): Promise<number> {
  const outcomes = o.sessions ? readOutcomes(o.sessions) : undefined;
  const results = [];
  for (const file of o.files) {
    const evaluator = new Evaluator();
    const summary = await runReplay([file], o.policy, {
      onCommand: (c) => evaluator.onCommand(c),
      onDecision: (d, raw) => evaluator.onDecision(d, raw),
    });
    const report = evaluator.report(outcomes);
    results.push({ file, replay: { events: summary.events, sessions: summary.sessions, rejected: summary.rejected, commands: summary.commands }, ...report });
    if (!o.json) process.stdout.write(`${formatReport(file, report)}\n${summaryText(summary)}\n\n`);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  return 0;
}
