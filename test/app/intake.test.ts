import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { createIntake, IntakeError, MAX_INTAKE_EVENTS } from "../../src/app/intake.js";
import type { IntakeRecord } from "../../src/app/intake.js";

// The HTTP intake's checks (app/intake.ts): the contract's schema and the policy's
// authenticity rule per event, the whole request or nothing, errors naming index and field.

const event = (i: number, over: Record<string, unknown> = {}) => ({
  type: "action",
  eventId: `py-${i}`,
  sessionId: "py-session",
  time: `2026-12-06T10:00:0${i % 10}.000Z`,
  agent: { id: "py-agent" },
  principal: { id: "alice" },
  action: { capability: "files.read", tool: "read_file", kind: "read" },
  label: "kept as sent",
  ...over,
});

function harness(policyText?: string) {
  const sent: IntakeRecord[][] = [];
  const policy = compilePolicy(policyText);
  return { sent, intake: createIntake({ send: async (r) => void sent.push([...r]), policy: () => policy }) };
}

const refusal = async (p: Promise<unknown>): Promise<IntakeError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof IntakeError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("HTTP event intake", () => {
  it("publishes one event or an array, as sent, keyed by session, partitioned by principal, with the caller as producer", async () => {
    const { intake, sent } = harness();
    expect(await intake.accept(event(1), "py-tools")).toEqual({ accepted: 1, eventIds: ["py-1"] });
    expect(await intake.accept([event(2), event(3)], "py-tools")).toEqual({ accepted: 2, eventIds: ["py-2", "py-3"] });
    expect(sent.map((b) => b.length)).toEqual([1, 2]);
    expect(sent[0]?.[0]).toEqual({
      key: "py-session",
      partitionKey: event(1).principal.id,
      value: JSON.stringify(event(1)),
      headers: { "vigil-producer": "py-tools" },
    });
  });

  it("refuses a request with one bad event whole, naming its index and field", async () => {
    const { intake, sent } = harness();
    const e = await refusal(intake.accept([event(1), event(2, { action: { capability: 7 } })], "py-tools"));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^\[1\]\.action\.capability: /);
    expect((await refusal(intake.accept(event(1, { type: "nope" }), "py-tools"))).message).toBe('type: unknown event type "nope"');
    expect((await refusal(intake.accept([], "py-tools"))).status).toBe(400);
    expect(sent).toEqual([]);
  });

  it("refuses more events than the cap with 413", async () => {
    const { intake } = harness();
    const e = await refusal(
      intake.accept(
        Array.from({ length: MAX_INTAKE_EVENTS + 1 }, (_, i) => event(i)),
        "py-tools",
      ),
    );
    expect([e.status, e.code]).toEqual([413, "too_many_events"]);
  });

  it("applies the policy's authenticity rule to the caller's name", async () => {
    const policy = 'version: 1\nauthenticity:\n  require: producer\n  producers: ["py-*"]\n  types: [action, action.result]\n';
    const { intake, sent } = harness(policy);
    await intake.accept(event(1), "py-tools");
    const e = await refusal(intake.accept([event(1), event(2)], "mallory"));
    expect([e.status, e.code]).toEqual([403, "unauthenticated"]);
    expect(e.message).toMatch(/^\[0\]: action event py-1 .*"mallory" is not among authenticity\.producers/);
    expect(sent).toHaveLength(1);
  });
});
