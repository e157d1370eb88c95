import { describe, expect, it } from "vitest";
import { compilePolicy, emptyBaseline, step } from "../../src/core/index.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { AgentEvent as AgentEventSchema, globMatch } from "../../src/protocol/index.js";
import { action } from "../support/given-when-then.js";

// Regressions named after the failures they pin: event fields are attacker-controlled.

const policy = compilePolicy();
const who = { session: "h1", agent: "a", principal: "p" };
const run = (events: AgentEvent[]) => {
  let session;
  let agentBaseline = emptyBaseline();
  let principalBaseline = emptyBaseline();
  const outs = [];
  for (const e of events) {
    const out = step(policy, { session, agentBaseline, principalBaseline, sod: { records: () => [] } }, e);
    session = out.session;
    agentBaseline = out.agentBaseline;
    principalBaseline = out.principalBaseline;
    outs.push(out);
  }
  return { outs, agentBaseline };
};

describe("hostile event content", () => {
  it("regression: a sensitivity tag or capability named after an Object member does not crash or corrupt baselines", () => {
    const events = ["constructor", "__proto__", "toString", "hasOwnProperty"].map((name, i) =>
      AgentEventSchema.parse(action(i, name, { ...who, id: `e${i}`, resource: { sensitivity: [name] }, args: { to: name } })),
    );
    const { outs, agentBaseline } = run(events);
    expect(outs).toHaveLength(4);
    expect(agentBaseline.capabilities.constructor).toBe(1);
    expect(Object.getPrototypeOf(agentBaseline.capabilities)).toBe(Object.prototype);
  });

  it("regression (found by the 50k fuzz run): a 200 KB geo or ip is kept capped, in the session and in the baselines", () => {
    const huge = "g".repeat(200_000);
    const events = [0, 1].map((i) =>
      AgentEventSchema.parse(
        action(i, "mail.read", {
          ...who,
          id: `ctx${i}`,
          context: { geo: huge, ip: huge, network: huge, userAgent: huge, device: { id: huge, compliant: true } },
        }),
      ),
    );
    const { outs, agentBaseline } = run(events);
    const session = outs[1]?.session;
    expect(JSON.stringify(session).length).toBeLessThan(8_000);
    expect(session?.context.geos).toEqual(["g".repeat(256)]);
    expect(Object.keys(agentBaseline.geos)).toEqual(["g".repeat(256)]);
    expect(outs.flatMap((o) => o.commands.flatMap((c) => c.reasons.map((r) => r.message))).every((m) => m.length < 1_000)).toBe(true);
  });

  it("regression: a crafted glob in a declared intent is matched in linear time (no regex backtracking)", () => {
    expect(globMatch("*a*a*a*a*a*a*a*a*b", "a".repeat(20_000))).toBe(false);
    expect(globMatch("*a*a*a*a*a*a*a*a*b", `${"a".repeat(20_000)}b`)).toBe(true);
  });

  it("rejects capability names that are patterns or absurdly long", () => {
    const parse = (capability: string) => AgentEventSchema.safeParse(action(0, capability, { ...who, id: "x" })).success;
    expect(parse("expense.approve")).toBe(true);
    expect(parse("*")).toBe(false);
    expect(parse("expense.*")).toBe(false);
    expect(parse("x".repeat(300))).toBe(false);
  });
});
