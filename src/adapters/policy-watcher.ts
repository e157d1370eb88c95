import { statSync } from "node:fs";
import type { CompiledPolicy } from "../core/index.js";
import type { PolicyError } from "../core/index.js";
import { loadPolicy } from "./policy-file.js";

// Keeps the effective policy: loads the file (or the default), polls it for changes and
// swaps in a new version only if it is valid; an invalid edit is reported and the old
// policy stays in force.

export interface PolicyWatcher {
  current(): CompiledPolicy;
  stop(): void;
}

export function watchPolicy(
  path: string | undefined,
  pollMs: number,
  on: { loaded(p: CompiledPolicy): void; rejected(e: PolicyError | Error): void },
): PolicyWatcher {
  const load = () => loadPolicy(path);
  let policy = load();
  on.loaded(policy);
  if (path === undefined) return { current: () => policy, stop: () => {} };
  let stamp = statSync(path).mtimeMs;
  const timer = setInterval(() => {
    try {
      const m = statSync(path).mtimeMs;
      if (m === stamp) return;
      stamp = m;
      const next = load();
      if (next.version !== policy.version) {
        policy = next;
        on.loaded(policy);
      }
    } catch (e) {
      on.rejected(e instanceof Error ? e : new Error(String(e)));
    }
  }, pollMs);
  timer.unref();
  return { current: () => policy, stop: () => clearInterval(timer) };
}
