import type { Command } from "../../src/protocol/index.js";
import { InMemoryStateStore } from "../../src/app/in-memory-store.js";
import { createPipeline } from "../../src/app/pipeline.js";
import { replay } from "../../src/app/replay.js";
import { readJsonlFiles } from "../../src/adapters/jsonl-files.js";
import { compilePolicy } from "../../src/core/index.js";

/** The commands one in-memory replay of these event lines produces, in order. */
export async function replayLineCommands(lines: readonly string[]): Promise<Command[]> {
  const policy = compilePolicy();
  const out: Command[] = [];
  const pipeline = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
  await replay(
    lines.map((text, i) => ({ file: "memory", line: i + 1, text })),
    pipeline,
    { onCommand: (c) => out.push(c) },
  );
  return out;
}

/** What `vigil replay` prints for these files (same pipeline, in-memory state). */
export async function replayCommands(files: string[], policyText?: string): Promise<Command[]> {
  const policy = compilePolicy(policyText);
  const out: Command[] = [];
  await replay(readJsonlFiles(files), createPipeline({ policy: () => policy, store: new InMemoryStateStore() }), { onCommand: (c) => out.push(c) });
  return out;
}
