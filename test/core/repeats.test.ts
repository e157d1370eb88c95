import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { action, sessionStarted, specification } from "../support/given-when-then.js";

// Repeated weak evidence is correlated evidence (noisy-OR assumes independence): a weak
// finding the session already raised for the same capability counts half as much each time.

const policy = compilePolicy(`version: 1
tools:
  - { capability: chat.send, description: Send a direct message, kind: egress, risk: high, egressArgs: [recipient] }
  - { capability: chat.invite, description: Invite a colleague to a direct message channel, kind: write, risk: medium, egressArgs: [user] }
`);
const start = sessionStarted(0, { goal: "Send each colleague a direct message congratulating them on their work this week" });
const send = (t: number, recipient: string) => action(t, "chat.send", { args: { recipient, body: "Well done!" } });
const weightOf = (signals: readonly { code: string; weight: number }[], code: string) => signals.find((s) => s.code === code)?.weight;

describe("repeated findings", () => {
  it("a weak finding counts half as much the second time and a quarter the third", () =>
    specification(policy)
      .given(start, send(1, "Bob"), send(2, "Carol"))
      .when(send(3, "Dave"))
      .then(({ history, decision }) => {
        const first = weightOf(history[1]?.decision?.signals ?? [], "intent.destination_not_in_goal") ?? 0;
        expect(first).toBeGreaterThan(0);
        expect(weightOf(history[2]?.decision?.signals ?? [], "intent.destination_not_in_goal")).toBeCloseTo(first / 2, 6);
        expect(weightOf(decision.signals, "intent.destination_not_in_goal")).toBeCloseTo(first / 4, 6);
      }));

  it("three messages to names read from a list do not add up to a step-up", () =>
    specification(policy)
      .given(start, send(1, "Bob"), send(2, "Carol"))
      .when(send(3, "Dave"))
      .then(({ decision, commands }) => {
        expect(decision.riskScore).toBeLessThan(policy.thresholds.step_up);
        expect(commands).toEqual([]);
      }));

  it("the same finding on another capability is not a repeat", () =>
    specification(policy)
      .given(start, send(1, "Bob"))
      .when(action(2, "chat.invite", { args: { user: "Carol" } }))
      .then(({ decision }) => {
        // Fresh weight: 0.5 (default) × 0.8 (written, not sent) × 0.5 (a bare name).
        expect(weightOf(decision.signals, "intent.destination_not_in_goal")).toBeCloseTo(0.5 * 0.8 * 0.5, 6);
      }));

  it("a finding strong enough to act alone is never discounted", () =>
    specification(policy)
      .given(start, send(1, "mallory@evil.example"))
      .when(send(2, "mallory@evil.example"))
      .then(({ history, decision }) => {
        const first = weightOf(history[1]?.decision?.signals ?? [], "intent.destination_not_in_goal");
        expect(first).toBeGreaterThanOrEqual(policy.thresholds.step_up);
        expect(weightOf(decision.signals, "intent.destination_not_in_goal")).toBe(first);
      }));
});
