import client from "prom-client";
import { describe, expect, it } from "vitest";
import { processBatch, resultSummary } from "../../src/app/batch-processor.js";
import type { BatchInput } from "../../src/app/batch-processor.js";
import { InMemoryDurableState } from "../../src/app/in-memory-durable-state.js";
import { promMetrics } from "../../src/adapters/prom-metrics.js";
import { compilePolicy } from "../../src/core/index.js";
import type { ActionResultEvent, AgentEvent } from "../../src/protocol/index.js";
import { AgentEvent as AgentEventSchema } from "../../src/protocol/index.js";
import { action, actionResult, sessionStarted } from "../support/given-when-then.js";

// Tool results in the metrics: the batch processor summarises each decided action.result
// (outcome, trust label, full size, truncated) and the prom-client adapter counts them.

const who = { sessionId: "m-1", agent: { id: "a" }, principal: { id: "p" } };
const result = (eventId: string, output: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  AgentEventSchema.parse({
    ...who,
    eventId,
    type: "action.result",
    time: "2026-11-28T09:00:02Z",
    actionEventId: "m-1#1",
    outcome: "success",
    output,
    ...extra,
  }) as ActionResultEvent;

describe("resultSummary", () => {
  it("takes the sender's full size, else the text's UTF-8 size, else 0; trust `none` without a label", () => {
    expect(resultSummary(result("r1", { text: "short", bytes: 1_000_000, truncated: true }, { source: { trust: "untrusted" } }))).toEqual({
      outcome: "success",
      trust: "untrusted",
      bytes: 1_000_000,
      truncated: true,
    });
    expect(resultSummary(result("r2", { text: "héllo 🙂" }))).toEqual({ outcome: "success", trust: "none", bytes: 11, truncated: false });
    expect(resultSummary(result("r3", {}, { outcome: "error", source: "a-producer-name" }))).toEqual({
      outcome: "error",
      trust: "none",
      bytes: 0,
      truncated: false,
    });
  });
});

const mailer = { session: "m-1", agent: "a", principal: "p" };

describe("processBatch", () => {
  it("summarises each decided action.result once: a re-delivered eventId is not counted again", async () => {
    const events: AgentEvent[] = [
      sessionStarted(0, { goal: "read my mail" }, { ...mailer, id: "m-1#0" }),
      action(1, "mail.read", { ...mailer, id: "m-1#1", kind: "read" }),
      actionResult(2, "m-1#1", "hello", { ...mailer, id: "m-1#2", truncated: false, source: { trust: "untrusted" } }),
      actionResult(2, "m-1#1", "hello", { ...mailer, id: "m-1#2", truncated: false, source: { trust: "untrusted" } }),
    ];
    const inputs: BatchInput[] = events.map((event, i) => ({ offset: String(i), ok: true, event, format: "json" }));
    const out = await processBatch(compilePolicy(), new InMemoryDurableState(), new Map(), { topic: "vigil.events", partition: 0 }, inputs);
    expect(out.duplicates).toBe(1);
    expect(out.processed.map((p) => p.type)).toEqual(["session.started", "action", "action.result"]);
    expect(out.processed.filter((p) => p.result)).toEqual([
      { type: "action.result", format: "json", result: { outcome: "success", trust: "untrusted", bytes: 5, truncated: false } },
    ]);
  });
});

describe("prom-client metrics of tool results", () => {
  it("counts by outcome and trust, observes the size in byte buckets, counts truncated outputs", async () => {
    const registry = new client.Registry();
    const metrics = promMetrics(registry);
    metrics.actionResult({ outcome: "success", trust: "untrusted", bytes: 70_000, truncated: true });
    metrics.actionResult({ outcome: "success", trust: "none", bytes: 200, truncated: false });
    metrics.actionResult({ outcome: "error", trust: "none", bytes: 0, truncated: false });
    const text = await registry.metrics();
    expect(text).toContain('vigil_action_results_total{outcome="success",trust="untrusted"} 1');
    expect(text).toContain('vigil_action_results_total{outcome="success",trust="none"} 1');
    expect(text).toContain('vigil_action_results_total{outcome="error",trust="none"} 1');
    expect(text).toContain('vigil_action_result_output_bytes_bucket{le="256"} 2');
    expect(text).toContain('vigil_action_result_output_bytes_bucket{le="65536"} 2');
    expect(text).toContain('vigil_action_result_output_bytes_bucket{le="262144"} 3');
    expect(text).toContain("vigil_action_result_output_bytes_sum 70200");
    expect(text).toContain("vigil_action_results_truncated_total 1");
    registry.clear();
  });
});
