import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { SourceLine } from "../app/line-decoder.js";

/** Lines of several JSONL files, in order, with file name and 1-based line number. Reports bytes read for progress. */
export async function* readJsonlFiles(files: readonly string[], onBytes?: (bytes: number) => void): AsyncGenerator<SourceLine> {
  for (const file of files) {
    const stream = createReadStream(file);
    if (onBytes) stream.on("data", (chunk) => onBytes(chunk.length));
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    for await (const text of rl) yield { file, line: ++line, text };
  }
}

export const totalBytes = (files: readonly string[]): number => files.reduce((n, f) => n + statSync(f).size, 0);
