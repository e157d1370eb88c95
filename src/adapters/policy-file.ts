import { readFileSync } from "node:fs";
import type { CompiledPolicy } from "../core/index.js";
import { compilePolicy } from "../core/index.js";

/** Reads and compiles a policy file (or the default). Throws PolicyError with line-precise problems. */
export function loadPolicy(path?: string): CompiledPolicy {
  if (path === undefined) return compilePolicy();
  return compilePolicy(readFileSync(path, "utf8"), path);
}
