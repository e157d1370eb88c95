import { createPipeline } from "../../app/pipeline.js";
import { InMemoryStateStore } from "../../app/in-memory-store.js";
import { replay } from "../../app/replay.js";
import type { ReplaySummary } from "../../app/replay.js";
import { readJsonlFiles, totalBytes } from "../../adapters/jsonl-files.js";
import { lineWriter } from "../../adapters/line-writer.js";
import { progressBar } from "../../adapters/progress-bar.js";
import type { SourceLine } from "../../app/line-decoder.js";
import type { ReplayHooks } from "../../app/replay.js";
import { loadPolicy } from "../../adapters/policy-file.js";
import { openAiJudge } from "../../adapters/judge/openai-judge.js";
import { loadJudgeSettings } from "../../config/config.js";
import { systemClock } from "../../adapters/clock.js";

export interface ReplayOptions {
  files: string[];
  policy?: string;
  out?: string;
  strict?: boolean;
}

async function* pacedBy(lines: AsyncIterable<SourceLine>, wait: () => Promise<void>): AsyncGenerator<SourceLine> {
  for await (const line of lines) {
    await wait();
    yield line;
  }
}

/** Runs the replay pipeline over files; shared by `replay` and `eval`. */
export async function runReplay(
  files: string[],
  policyPath: string | undefined,
  hooks: ReplayHooks,
  wait: () => Promise<void> = async () => {},
): Promise<ReplaySummary> {
  const policy = loadPolicy(policyPath);
  // The optional judge: only with VIGIL_JUDGE_URL set (replays that use one are no longer
  // byte-reproducible: the judge is outside Vigil).
  const judge = loadJudgeSettings(process.env);
  const pipeline = createPipeline({
    policy: () => policy,
    store: new InMemoryStateStore(),
    ...(judge ? { judging: { judge: openAiJudge(judge), clock: systemClock } } : {}),
  });
  const bar = progressBar(process.stderr, totalBytes(files), "replay");
  try {
    return await replay(
      pacedBy(
        readJsonlFiles(files, (n) => bar.advance(n)),
        wait,
      ),
      pipeline,
      hooks,
    );
  } finally {
    bar.finish();
  }
}

export function summaryText(s: ReplaySummary): string {
  const byType =
    Object.entries(s.commands)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, n]) => `${t}=${n}`)
      .join(" ") || "none";
  const byReason = Object.entries(s.rejectedBy)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([r, n]) => `${r}=${n}`)
    .join(", ");
  return `events read: ${s.events}, sessions: ${s.sessions}, duplicates: ${s.duplicates}, commands: ${byType}, lines rejected: ${s.rejected}${byReason ? ` (${byReason})` : ""}`;
}

export async function replayCommand(o: ReplayOptions): Promise<number> {
  const out = lineWriter(o.out);
  const summary = await runReplay(
    o.files,
    o.policy,
    {
      onCommand: (c) => out.write(JSON.stringify(c)),
      onReject: (r) => process.stderr.write(`${r.file}:${r.line}: ${r.error} [${r.reason}]\n`),
    },
    () => out.drained(),
  );
  await out.close();
  process.stderr.write(`${summaryText(summary)}\n`);
  return o.strict && summary.rejected > 0 ? 1 : 0;
}
