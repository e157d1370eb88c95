import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy, initialSession, sharingParts } from "../../src/core/index.js";
import type { CompiledPolicy, SessionState } from "../../src/core/index.js";
import { intern } from "../../src/core/reading/text.js";
import { parseSnapshot } from "../../src/app/durable-state.js";
import { createPipeline } from "../../src/app/pipeline.js";
import { InMemoryStateStore } from "../../src/app/in-memory-store.js";
import { decodeLine } from "../../src/app/line-decoder.js";
import { loadPolicy } from "../../src/adapters/policy-file.js";
import { benchData } from "../support/bench-data.js";

// Sessions share what they have in common (issue 14, heap per session): every new session
// starts from the same frozen empty lists and records, and strings many sessions keep (agent,
// principal and capability names, the stems of orders) are interned. That is only sound if the
// fold never changes a state in place. Checked here on the public v2 traces (tool outputs,
// injections, reviews of every kind of event): each session the pipeline stores is deep-frozen
// before the next event meets it, so any write into a state — its own or a shared part — throws
// in strict mode; and the decisions are the same as without freezing.

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  for (const v of Object.values(value as object)) deepFreeze(v);
  return Object.freeze(value);
}

class FreezingStore extends InMemoryStateStore {
  override putSession(session: SessionState): void {
    super.putSession(deepFreeze(session));
  }
}

describe("shared session state", () => {
  it("starts every session from the same frozen empty parts", () => {
    const a = initialSession({ sessionId: "s1", agent: { id: "agent" }, principal: { id: "p" } });
    const b = initialSession({ sessionId: "s2", agent: { id: "agent" }, principal: { id: "p" } });
    expect(a.grants).toBe(b.grants);
    expect(a.touched).toBe(b.touched);
    expect(a.context).toBe(b.context);
    expect(a.risk).toBe(b.risk);
    for (const shared of [a.grants, a.jitGrants, a.recent, a.seenEventIds, a.touched, a.touched.tags, a.context, a.context.current, a.risk])
      expect(Object.isFrozen(shared)).toBe(true);
    expect(a.counters).not.toBe(b.counters);
  });

  it("shares those parts again in a state read back from JSON, and changes nothing else", () => {
    const fresh = initialSession({ sessionId: "s1", agent: { id: "agent" }, principal: { id: "p" } });
    const parsed = JSON.parse(JSON.stringify(fresh)) as typeof fresh;
    expect(parsed.grants).not.toBe(fresh.grants);
    const shared = sharingParts(parsed);
    for (const k of ["grants", "jitGrants", "touched", "recent", "context"] as const) expect(shared[k]).toBe(fresh[k]);
    expect(JSON.stringify(shared)).toBe(JSON.stringify(parsed));
    // A state with content keeps its own.
    const busy = { ...parsed, grants: ["wiki.read"], touched: { tags: ["pii"], resources: [] }, context: { current: { geo: "DE" }, ips: [], geos: ["DE"] } };
    const kept = sharingParts(busy);
    expect(kept.grants).toBe(busy.grants);
    expect(kept.touched).toBe(busy.touched);
    expect(kept.context).toBe(busy.context);
    expect(JSON.stringify(kept)).toBe(JSON.stringify(busy));
  });

  it("leaves a stored snapshot of another shape as it was parsed", () => {
    const odd = JSON.stringify({ state: { sessionId: "s1", agentId: "a" }, partition: 0, offset: "3" });
    expect(parseSnapshot(odd)).toEqual(JSON.parse(odd));
  });

  it("interns equal strings to one copy, and leaves long ones alone", () => {
    const x = ["agent-", "7"].join("");
    const y = ["agent", "-7"].join("");
    expect(intern(x)).toBe("agent-7");
    expect(intern(y)).toBe(intern(x));
    const long = "x".repeat(300);
    expect(intern(long)).toBe(long);
    // Bounded: far more distinct strings than the table holds still come back equal.
    for (let i = 0; i < 20_000; i++) expect(intern(`name-${i}`)).toBe(`name-${i}`);
  });

  // Every event through a pipeline whose stored states are deep-frozen, and through a plain one.
  const frozenReplay = (policy: CompiledPolicy, lines: readonly string[]) => {
    const events = lines.map((l) => decodeLine(l)).flatMap((d) => (d.ok === true ? [d.event] : []));
    const plain = createPipeline({ policy: () => policy, store: new InMemoryStateStore() });
    const frozen = createPipeline({ policy: () => policy, store: new FreezingStore() });
    let differing = 0;
    let commands = 0;
    for (const e of events) {
      const want = plain.handle(e);
      const got = frozen.handle(e);
      commands += want.commands.length;
      if (JSON.stringify([got.commands, got.decision]) !== JSON.stringify([want.commands, want.decision])) differing++;
    }
    return { events: events.length, commands, differing };
  };
  const linesOf = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");

  it("never writes into a stored state: the example scenarios (SoD, exfiltration, device posture, just-in-time grants) decide the same with every state frozen", () => {
    const dir = join(import.meta.dirname, "..", "..", "examples", "scenarios");
    const run = frozenReplay(
      compilePolicy(),
      readdirSync(dir)
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => linesOf(join(dir, f))),
    );
    expect(run.commands).toBeGreaterThan(0);
    expect(run.differing).toBe(0);
  });

  // The public traces (tool outputs, injections) live outside the repository, like those of
  // test/bench/detection.test.ts: required under CI=true, read when present elsewhere.
  const dataDir = benchData("test/core/shared-state.test.ts");
  const traces = dataDir === undefined ? undefined : join(dataDir, "agentdojo-gpt-4o-v2.jsonl");
  it("never writes into a stored state: the public traces, when present, decide the same with every state frozen", () => {
    if (traces === undefined) {
      return;
    }
    const policy = loadPolicy(join(import.meta.dirname, "..", "..", "bench", "policies", "agentdojo.yaml"));
    const run = frozenReplay(policy, linesOf(traces));
    expect(run.events).toBeGreaterThan(30_000);
    expect(run.commands).toBeGreaterThan(1000);
    expect(run.differing).toBe(0);
  }, 180_000);
});
