import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain JavaScript benchmark harness, shared with `npm run bench`
import { scaleOut } from "../../bench/scale-out.mjs";
// @ts-expect-error -- plain JavaScript
import { workload } from "../../bench/workload.mjs";
import { replicatedScenarios } from "../support/processes.js";
import { benchData } from "../support/bench-data.js";

// Many processors, as correct as one (`npm run test:soak`; docs/performance.md): the same
// events decided by one `vigil start` and by three in one consumer group while one is
// SIGKILLed and one SIGTERMed mid-run, each restarted (two rebalances at least).

interface ScaleOut {
  events: number;
  restarts: number;
  commands: number;
  baselines: number;
  ledgerKeys: number;
  commandsEqual: boolean;
  baselinesEqual: boolean;
  ledgerEqual: boolean;
  countsEqual: boolean;
  differ: Record<string, string[]>;
  single: { baselines: Map<string, string> };
}

const log = (m: string) => process.stderr.write(`[scale-out] ${m}\n`);
const dir = benchData("test/soak/scale-out.soak.ts", "its shared-agent run is skipped");

describe("many processors (soak)", () => {
  it("every fact a decision reads on one partition (principal-keyed): the same commands, baselines and ledger", async () => {
    // The demo scenarios (separation of duties across sessions included), one replica per
    // partition group, with the built-in policy.
    const messages = replicatedScenarios(12_000, 6);
    const r = (await scaleOut({ messages, partitions: 6, instances: 3, kills: 1, log })) as ScaleOut;
    log(JSON.stringify({ ...r, single: undefined }));
    expect(r.restarts).toBe(2);
    expect(r.commands).toBeGreaterThan(500);
    expect(r.ledgerKeys).toBeGreaterThan(100);
    expect(r.differ).toEqual({ commands: [], baselines: [], ledger: [], counts: [] });
    expect([r.commandsEqual, r.baselinesEqual, r.ledgerEqual, r.countsEqual]).toEqual([true, true, true, true]);
  });

  it.skipIf(dir === undefined)("one agent for principals on every partition: its baseline loses no increment to concurrent writers", async () => {
    const file = join(dir as string, "agentdojo-gpt-4o-v2.jsonl");
    const messages = workload(file, 40_000, 6, { sharedAgents: true }) as { value: string }[];
    const r = (await scaleOut({
      messages,
      partitions: 6,
      policyFile: join(import.meta.dirname, "..", "..", "bench", "policies", "agentdojo.yaml"),
      instances: 3,
      kills: 1,
      log,
    })) as ScaleOut;
    log(JSON.stringify({ ...r, single: undefined }));
    expect(r.restarts).toBe(2);
    // Counted whatever was decided: equal between the runs, and equal to the events' own count.
    expect(r.differ.counts).toEqual([]);
    expect(r.countsEqual).toBe(true);
    const starts = new Map<string, number>();
    for (const m of messages) {
      const e = JSON.parse(m.value) as { type: string; agent: { id: string } };
      if (e.type === "session.started") starts.set(e.agent.id, (starts.get(e.agent.id) ?? 0) + 1);
    }
    expect(starts.size).toBe(1);
    for (const [agent, n] of starts) expect(JSON.parse(r.single.baselines.get(`agent:${agent}`) ?? "{}").sessions).toBe(n);
  });
});
