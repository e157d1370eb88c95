import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/protocol/index.js";
import { benchData } from "../support/bench-data.js";
import { replayCommands } from "../support/expected-commands.js";
import { expectSameCommands } from "../support/same-commands.js";
import { agentdojoPolicy, expectedFates, mcpReplayFixture, sameInstants, throughGateway } from "../support/mcp-replay.js";

// Proof that the MCP gateway is the same Vigil: recorded AgentDojo sessions (the public v2
// file, every 60th session: all four suites, clean and injected, parallel calls and calls
// that never returned) go through `openMcpGateway` — the composition `vigil mcp` runs —
// between a scripted MCP client and an upstream that answers with the recorded outputs, into
// the live processor (real Kafka, Redis). In monitor mode the commands the processor
// publishes equal `vigil replay`'s on the same file, byte for byte. In enforce mode, every
// call up to each session's first held call is forwarded or held exactly as the replay's
// commands say, and a held call never reaches the server. The whole file runs in
// `npm run test:soak` (test/soak/mcp-replay.soak.ts).

const dir = benchData("mcp-replay.e2e");
const EVERY = 60;

describe.runIf(dir !== undefined)("recorded AgentDojo sessions through the MCP gateway equal `vigil replay`", () => {
  const fixture = mcpReplayFixture(EVERY);
  let want: Command[] = [];

  beforeAll(async () => {
    fixture.setUp(dir as string);
    want = await replayCommands([fixture.subset], readFileSync(agentdojoPolicy, "utf8"));
  }, 120_000);
  afterAll(() => fixture.tearDown());

  it("monitor: the processor's commands equal the replay's, byte for byte", { timeout: 600_000 }, async () => {
    expect(fixture.sessions.length).toBeGreaterThan(40);
    const { runs, live } = await throughGateway(fixture, "monitor", "mcp-replay-mon");
    expect(runs.flatMap((r) => r.mismatches)).toEqual([]);
    expect(runs.reduce((n, r) => n + r.calls.length, 0)).toBeGreaterThan(200);
    expect(want.length).toBeGreaterThan(20);
    expectSameCommands(live, want.map(sameInstants), 20);
  });

  it("enforce: each call up to a session's first hold is forwarded or held as the replay decides; held calls never run", { timeout: 600_000 }, async () => {
    const { runs, driver } = await throughGateway(fixture, "enforce", "mcp-replay-enf");
    const fates = expectedFates(fixture.sessions, want);
    expect(runs.flatMap((r) => r.mismatches)).toEqual([]);
    const got = runs.flatMap((r) => r.calls.map((c) => `${r.sessionId} ${c.eventId} ${c.capability} ${c.fate}`));
    const expected = runs.flatMap((r) => r.calls.map((c) => `${r.sessionId} ${c.eventId} ${c.capability} ${fates.get(c.eventId) ?? "?"}`));
    expect(got).toEqual(expected);
    const held = runs.flatMap((r) => r.calls.filter((c) => c.fate === "held"));
    // The subset holds hijacked sessions: some calls must be held, or this proves nothing.
    expect(held.length).toBeGreaterThan(5);
    expect(
      held.filter((c) => driver.ran(c.eventId)).map((c) => c.eventId),
      "held calls that reached the server",
    ).toEqual([]);
    console.log(JSON.stringify({ mcpReplay: { sessions: runs.length, callsCompared: got.length, held: held.length, commands: want.length } }));
  });
});
