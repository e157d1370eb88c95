// `node scripts/fingerprint.mjs [file] [policy]`: replays a benchmark file through the
// built core (dist/) and prints one SHA-256 over every command and every session's final
// state, plus their counts. A refactor or a speed-up must leave it unchanged: run it before
// and after (after `npm run build`). Defaults: the AgentDojo v2 file and its bench policy.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { benchDir } from "../bench/split.mjs";
import { decodeLine } from "../dist/app/line-decoder.js";
import { createPipeline } from "../dist/app/pipeline.js";
import { InMemoryStateStore } from "../dist/app/in-memory-store.js";
import { loadPolicy } from "../dist/adapters/policy-file.js";

const file = process.argv[2] ?? join(benchDir(), "agentdojo-gpt-4o-v2.jsonl");
const policy = loadPolicy(process.argv[3] ?? join(import.meta.dirname, "..", "bench", "policies", "agentdojo.yaml"));
const store = new InMemoryStateStore();
const pipeline = createPipeline({ policy: () => policy, store });
const hash = createHash("sha256");
let events = 0;
let commands = 0;
for (const line of readFileSync(file, "utf8").split("\n")) {
  if (line.trim() === "") continue;
  const decoded = decodeLine(line);
  if (decoded.ok !== true) continue;
  events++;
  for (const c of pipeline.handle(decoded.event).commands) {
    commands++;
    hash.update(JSON.stringify(c));
    hash.update("\n");
  }
}
const ids = [...store.sessions.keys()].sort();
for (const id of ids) hash.update(JSON.stringify(store.sessions.get(id)));
console.log(JSON.stringify({ events, commands, sessions: ids.length, sha256: hash.digest("hex") }));
