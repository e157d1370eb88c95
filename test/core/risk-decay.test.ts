import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { action, given, sessionStarted, specification } from "../support/given-when-then.js";

// Risk decays with a half-life in event time (900 s by default) and combines new signals
// as a noisy-OR; the thresholds turn the score into step_up, downgrade or revoke.

const docs = sessionStarted(0, { goal: "Tidy up the project documents", capabilities: ["docs.*"] });
// intent.out_of_scope at weight 0.6 (medium risk, write kind): one signal, a known score.
const outOfScope = (t: number, capability = "billing.update") => action(t, capability, { kind: "write" });

describe("risk decay", () => {
  it("one out-of-scope write scores exactly its weight", () =>
    given(docs)
      .when(outOfScope(10))
      .then(({ decision }) => expect(decision.riskScore).toBeCloseTo(0.6, 6)));

  it("a second signal one half-life later combines with half the earlier risk", () =>
    given(docs, outOfScope(10))
      .when(outOfScope(910, "billing.create"))
      .then(({ decision }) => expect(decision.riskScore).toBeCloseTo(1 - (1 - 0.3) * (1 - 0.6), 6)));

  it("a second signal one second later combines with almost all of it", () =>
    given(docs, outOfScope(10))
      .when(outOfScope(11, "billing.create"))
      .then(({ decision }) => expect(decision.riskScore).toBeCloseTo(1 - (1 - 0.6 * 0.5 ** (1 / 900)) * 0.4, 6)));

  it("a clean event four half-lives later carries a sixteenth of the risk", () =>
    given(docs, outOfScope(10))
      .when(action(3610, "docs.read", { kind: "read" }))
      .then(({ decision, codes }) => {
        expect(codes).toEqual([]);
        expect(decision.riskScore).toBeCloseTo(0.6 / 16, 6);
      }));

  it("the half-life comes from the policy", () =>
    specification(compilePolicy("version: 1\nscoring:\n  halfLifeSeconds: 60\n"))
      .given(docs, outOfScope(10))
      .when(action(70, "docs.read", { kind: "read" }))
      .then(({ decision }) => expect(decision.riskScore).toBeCloseTo(0.3, 6)));
});

describe("thresholds", () => {
  it("0.6 crosses step_up (0.5) but not downgrade (0.7): step_up only", () =>
    given(docs)
      .when(outOfScope(10))
      .then(({ types, session }) => {
        expect(types).toEqual(["step_up"]);
        expect(session.enforcement.removed).toEqual([]);
      }));

  it("0.84 (delete kind) crosses downgrade: the capability is removed", () =>
    given(docs)
      .when(action(10, "billing.delete", { kind: "delete" }))
      .then(({ types, commands, decision }) => {
        expect(decision.riskScore).toBeCloseTo(0.84, 6);
        expect(types).toEqual(["downgrade"]);
        expect(commands[0]?.capabilities?.removed).toEqual(["billing.delete"]);
      }));

  it("below step_up nothing is commanded", () =>
    given(docs)
      .when(action(10, "billing.read", { kind: "read" }))
      .then(({ decision, commands }) => {
        expect(decision.riskScore).toBeCloseTo(0.3, 6);
        expect(commands).toEqual([]);
      }));

  it("custom thresholds turn the same 0.6 into a revoke", () =>
    specification(compilePolicy("version: 1\nthresholds: { step_up: 0.2, downgrade: 0.4, revoke: 0.55 }\n"))
      .given(docs)
      .when(outOfScope(10))
      .then(({ types, session }) => {
        expect(types).toEqual(["revoke"]);
        expect(session.enforcement.revoked).toBe(true);
      }));
});
