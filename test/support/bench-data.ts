// The one way a test finds the public benchmark files (bench/data/ or VIGIL_BENCH_DIR,
// bench/split.mjs's benchDir). They live outside the repository: under CI=true they must be
// there, and a missing folder fails the run; on a developer machine without them the tests
// that need them skip, and say so once, naming the test file.
// @ts-expect-error: plain ESM bench script without types
import { benchDir } from "../../bench/split.mjs";

/**
 * The benchmark folder, or undefined outside CI when it is missing (after a warning naming
 * `who`, the test file, and what it does instead: by default, skip its benchmark specs).
 * Under CI=true a missing folder throws.
 */
export function benchData(who: string, instead = "its benchmark specs are skipped"): string | undefined {
  try {
    return benchDir() as string;
  } catch (e) {
    if (process.env.CI === "true") throw e;
    console.warn(`${who}: benchmark data not found, ${instead} (${(e as Error).message})`);
    return undefined;
  }
}

/** Whether the benchmark folder is there, for `describe.runIf` (with benchData's warning, and its error under CI=true). */
export const haveData = (who: string, instead?: string): boolean => benchData(who, instead) !== undefined;
