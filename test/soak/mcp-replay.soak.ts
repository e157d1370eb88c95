import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/protocol/index.js";
import { benchData } from "../support/bench-data.js";
import { replayCommands } from "../support/expected-commands.js";
import { expectSameCommands } from "../support/same-commands.js";
import { agentdojoPolicy, expectedFates, mcpReplayFixture, sameInstants, throughGateway } from "../support/mcp-replay.js";

// The whole public AgentDojo v2 file through the MCP gateway (test/live/mcp-replay.e2e.test.ts
// runs every 60th session of it in `npm test`): 2,780 sessions, 14,812 calls. Monitor mode:
// the live commands equal `vigil replay`'s byte for byte. Enforce mode: every call up to each
// session's first hold is forwarded or held as the replay decides, and no held call runs.
// The figures go to docs/mcp.md.

const dir = benchData("mcp-replay.soak");

describe.runIf(dir !== undefined)("the AgentDojo v2 file through the MCP gateway equals `vigil replay`", () => {
  const fixture = mcpReplayFixture(1);
  let want: Command[] = [];
  beforeAll(async () => {
    fixture.setUp(dir as string);
    want = await replayCommands([fixture.subset], readFileSync(agentdojoPolicy, "utf8"));
  }, 600_000);
  afterAll(() => fixture.tearDown());

  it("monitor: every command equal", { timeout: 3_600_000 }, async () => {
    const t0 = Date.now();
    const { runs, live } = await throughGateway(fixture, "monitor", "mcp-replay-soak-mon");
    expect(runs.flatMap((r) => r.mismatches)).toEqual([]);
    expectSameCommands(live, want.map(sameInstants), 1001);
    const calls = runs.reduce((n, r) => n + r.calls.length, 0);
    console.log(JSON.stringify({ mcpReplay: { mode: "monitor", sessions: runs.length, calls, commands: live.length, seconds: (Date.now() - t0) / 1000 } }));
  });

  it("enforce: every ruling equal up to each session's first hold; held calls never run", { timeout: 3_600_000 }, async () => {
    const t0 = Date.now();
    const { runs, driver } = await throughGateway(fixture, "enforce", "mcp-replay-soak-enf");
    const fates = expectedFates(fixture.sessions, want);
    expect(runs.flatMap((r) => r.mismatches)).toEqual([]);
    const got = runs.flatMap((r) => r.calls.map((c) => `${c.eventId} ${c.fate}`));
    expect(got).toEqual(runs.flatMap((r) => r.calls.map((c) => `${c.eventId} ${fates.get(c.eventId) ?? "?"}`)));
    const held = runs.flatMap((r) => r.calls.filter((c) => c.fate === "held"));
    expect(held.filter((c) => driver.ran(c.eventId))).toEqual([]);
    const calls = runs.reduce((n, r) => n + r.calls.length, 0);
    console.log(
      JSON.stringify({ mcpReplay: { mode: "enforce", sessions: runs.length, callsCompared: calls, held: held.length, seconds: (Date.now() - t0) / 1000 } }),
    );
  });
});
