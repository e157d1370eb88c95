import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { noopMetrics } from "../../src/app/metrics.js";
import { promMetrics } from "../../src/adapters/prom-metrics.js";
import { metricsContract } from "./metrics.contract.js";

metricsContract("no-op", () => noopMetrics);
metricsContract("prom-client", () => promMetrics(new Registry()));

describe("prom-client metrics, beyond the contract", () => {
  it("exposes what it was told", async () => {
    const registry = new Registry();
    const m = promMetrics(registry);
    m.eventProcessed("action", "json");
    m.eventProcessed("action", "json");
    m.commandIssued("revoke", "rule.x");
    const text = await registry.metrics();
    expect(text).toContain('vigil_events_processed_total{type="action",format="json"} 2');
    expect(text).toContain('vigil_commands_total{type="revoke",reason="rule.x"} 1');
  });
});
