import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes lines to a file or stdout, letting the producer wait when the stream is full. */
export function lineWriter(path?: string) {
  const stream: Writable = path ? createWriteStream(path) : process.stdout;
  let full = false;
  return {
    write(line: string) {
      if (!stream.write(`${line}\n`)) full = true;
    },
    async drained() {
      if (!full) return;
      full = false;
      await once(stream, "drain");
    },
    async close() {
      if (path) {
        stream.end();
        await once(stream, "finish");
      }
    },
  };
}
