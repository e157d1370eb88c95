import { describe, expect, it } from "vitest";
import type { BatchPhase, Metrics } from "../../src/app/metrics.js";
import { BATCH_PHASES } from "../../src/app/metrics.js";
import { DLQ_REASONS } from "../../src/protocol/index.js";
import type { DlqReason } from "../../src/protocol/index.js";

// One contract for every Metrics implementation: the processor calls these on the hot path
// with whatever an event carried (within the contract's bounds), so each must exist, return
// at once (nothing to await) and never throw — a metric must not fail a batch.

/** Every method of the port; the type below fails to compile when one is added and not listed. */
const METHODS = [
  "eventProcessed",
  "eventRejected",
  "commandIssued",
  "decision",
  "riskScore",
  "alreadyApplied",
  "stateRebuilt",
  "verdict",
  "feedback",
  "batch",
  "batchPhase",
  "redisRoundTrip",
  "eventTimeToCommand",
  "consumerLag",
  "policyLoaded",
  "policyRejected",
  "signal",
  "timeToEnforce",
  "judged",
  "actionResult",
  "mcpToolFinding",
] as const;
type Unlisted = Exclude<keyof Metrics, (typeof METHODS)[number]>;
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;

const label = (n: number) => ["", "x", "action.result", "ünïcødé 😀", "a".repeat(512), 'quote" and \\ backslash'][n % 6] as string;
const number = (n: number) => [0, 1, 0.5, 1e9, Number.MAX_SAFE_INTEGER, 1e-9][n % 6] as number;

/** Each method with arguments of the right types, from ordinary to odd. */
function calls(m: Metrics, n: number): (() => unknown)[] {
  return [
    () => m.eventProcessed(label(n), label(n + 1)),
    () => m.eventRejected(DLQ_REASONS[n % DLQ_REASONS.length] as DlqReason),
    () => m.commandIssued(label(n), label(n + 2)),
    () => m.decision(label(n)),
    () => m.riskScore(number(n) > 1 ? 1 : number(n)),
    () => m.alreadyApplied(Math.floor(number(n))),
    () => m.stateRebuilt(Math.floor(number(n))),
    () => m.verdict(label(n)),
    () => m.feedback(label(n)),
    () => m.batch(number(n), Math.floor(number(n + 1))),
    () => m.batchPhase(BATCH_PHASES[n % BATCH_PHASES.length] as BatchPhase, number(n)),
    () => m.redisRoundTrip(label(n), number(n)),
    () => m.eventTimeToCommand(number(n)),
    () => m.consumerLag(label(n), n % 64, Math.floor(number(n))),
    () => m.policyLoaded(label(n), label(n + 3)),
    () => m.policyRejected(),
    () => m.signal(label(n), number(n) > 1 ? 1 : number(n)),
    () => m.timeToEnforce(number(n)),
    () => m.judged(label(n), number(n)),
    () => m.actionResult({ outcome: label(n), trust: label(n + 1), bytes: Math.floor(number(n)), truncated: n % 2 === 0 }),
    () => m.mcpToolFinding(label(n), label(n + 1)),
  ];
}

export function metricsContract(name: string, make: () => Metrics) {
  describe(`Metrics contract: ${name}`, () => {
    it("implements every method of the port", () => {
      expect(everyMethodListed).toBe(true);
      const m = make();
      for (const method of METHODS) expect(typeof m[method], method).toBe("function");
      expect(calls(m, 0)).toHaveLength(METHODS.length);
    });

    it("returns at once and never throws, whatever bounded values it is given", () => {
      const m = make();
      for (let n = 0; n < 12; n++) {
        for (const call of calls(m, n)) {
          const returned = call();
          // void on the port: whatever an implementation returns, nothing is left to await.
          expect(typeof (returned as { then?: unknown } | undefined)?.then).not.toBe("function");
        }
      }
    });
  });
}
