import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { sessionStatus } from "../../src/app/session-status.js";
import { World, action, sessionStarted, stepUpAnswered } from "../support/given-when-then.js";

// contract v1.4: a person's answer to a step-up (a gateway asked them to confirm a held
// call) is folded into the session in its order, counted, and changes no enforcement:
// the confirmed call runs at the gateway, the session's step-up stands for the next one.
// And the session status says whether the session declared a goal.

const policy = compilePolicy(`version: 1
tools:
  - { capability: send_money, description: Send money to a recipient, kind: egress, risk: high, egressArgs: [recipient] }
`);

describe("step_up.answered", () => {
  it("counts accepted and declined (cancel is no confirmation) without changing the session's enforcement", () => {
    const world = new World(policy);
    world.handle(sessionStarted(0, { goal: "Pay the rent to my landlord" }));
    const held = action(1, "send_money", { args: { recipient: "DE89370400440532013000", amount: 900 } });
    world.handle(held);
    const before = world.sessions.get("s1");
    const accept = world.handle(stepUpAnswered(2, held, "accept"));
    expect(accept.commands).toEqual([]);
    expect(accept.session.stepUps).toEqual({ accepted: 1, declined: 0 });
    expect(accept.session.enforcement).toEqual(before?.enforcement);
    world.handle(stepUpAnswered(3, held, "decline"));
    const cancel = world.handle(stepUpAnswered(4, held, "cancel"));
    expect(cancel.session.stepUps).toEqual({ accepted: 1, declined: 2 });
    expect(cancel.session.counters.events).toBe(5);
  });

  it("is a duplicate the second time, like any event", () => {
    const world = new World(policy);
    world.handle(sessionStarted(0, { goal: "Pay the rent" }));
    const answer = stepUpAnswered(2, "s1/send_money@1", "accept");
    world.handle(answer);
    expect(world.handle(answer).duplicate).toBe(true);
    expect(world.sessions.get("s1")?.stepUps).toEqual({ accepted: 1, declined: 0 });
  });
});

describe("session status: goal", () => {
  it("is declared for a session started with a goal, none for an empty goal or no start", () => {
    const world = new World(policy);
    world.handle(sessionStarted(0, { goal: "Pay the rent" }));
    world.handle(sessionStarted(0, { goal: "  " }, { session: "s2" }));
    world.handle(action(1, "send_money", { session: "s3", args: { recipient: "DE89370400440532013000" } }));
    const goal = (id: string) => sessionStatus(world.sessions.get(id) ?? expect.fail(id), "v1").goal;
    expect([goal("s1"), goal("s2"), goal("s3")]).toEqual(["declared", "none", "none"]);
  });
});
