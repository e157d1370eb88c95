import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { DEFAULT_POLICY_YAML, PolicyError, WEIGHTED_CODES, compilePolicy, parsePolicyText } from "../../src/core/index.js";
import type { CompiledPolicy, PolicyProblem } from "../../src/core/index.js";
import { vigil } from "../support/processes.js";

// Every scoring knob (weights, factors, cut-offs, word lists) has exactly one default: the
// shipped policy YAML (`vigil policy default`). A policy file's `scoring` is merged over it
// key by key at every depth, also under `extends: none`; a list given replaces the default's
// list. compilePolicy refuses a policy in which any reason code a scorer raises has no weight.

const DEFAULT = compilePolicy();
/** The knobs of a compiled policy, as plain data (the lexicon's word sets as sorted lists). */
const knobsOf = (p: CompiledPolicy) => ({
  halfLifeSeconds: p.halfLifeSeconds,
  weights: p.weights,
  factors: p.factors,
  baseline: p.baseline,
  burst: p.burst,
  outputs: p.outputs,
  maxGrantTtlSeconds: p.maxGrantTtlSeconds,
  judgeAskFrom: p.judgeAskFrom,
  linkTlds: [...p.lexicon.linkTlds].sort(),
  notNames: [...p.lexicon.notNames].sort(),
  notValues: [...p.lexicon.notValues].sort(),
  verbs: p.lexicon.verbTable,
  grammar: Object.fromEntries(Object.entries(p.lexicon.grammar).map(([k, v]) => [k, [...v].sort()])),
});
const problemsOf = (text: string): PolicyProblem[] => {
  const parsed = parsePolicyText(text);
  expect(parsed.ok, "policy unexpectedly valid").toBe(false);
  return parsed.problems ?? [];
};

describe("the default policy", () => {
  it("`vigil policy default` prints the shipped policy, which compiles and weighs every reason code", () => {
    const r = vigil(["policy", "default"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(DEFAULT_POLICY_YAML);
    const printed = compilePolicy(r.stdout, "printed.yaml");
    for (const code of WEIGHTED_CODES) expect(printed.weights[code], code).toBeTypeOf("number");
  });

  it("holds a value for every knob the compiled policy exposes (no default hides in the code)", () => {
    const yaml = parse(DEFAULT_POLICY_YAML) as { scoring: Record<string, unknown> };
    expect(DEFAULT.weights).toEqual(yaml.scoring.weights);
    expect(DEFAULT.factors).toEqual(yaml.scoring.factors);
    expect(DEFAULT.burst).toEqual(yaml.scoring.burst);
    expect(DEFAULT.outputs).toEqual(yaml.scoring.outputs);
    expect(DEFAULT.baseline).toEqual(yaml.scoring.baseline);
    expect(Object.keys(DEFAULT.weights).sort()).toEqual([...WEIGHTED_CODES].sort());
  });
});

describe("a file's scoring is merged over the default's", () => {
  it("overriding one factor changes that factor only", () => {
    const p = compilePolicy("version: 1\nscoring:\n  factors: { bareName: 0.25 }\n");
    expect(p.factors.bareName).toBe(0.25);
    expect(DEFAULT.factors.bareName).not.toBe(0.25);
    expect(knobsOf(p)).toEqual({ ...knobsOf(DEFAULT), factors: { ...DEFAULT.factors, bareName: 0.25 } });
  });

  it("overriding one key of a nested factor keeps its siblings", () => {
    const p = compilePolicy("version: 1\nscoring:\n  factors:\n    kind: { egress: 2 }\n");
    expect(p.factors.kind).toEqual({ ...DEFAULT.factors.kind, egress: 2 });
  });

  it("one weight changes that weight only", () => {
    const p = compilePolicy("version: 1\nscoring:\n  weights: { intent.instructed_value: 0.9 }\n");
    expect(p.weights).toEqual({ ...DEFAULT.weights, "intent.instructed_value": 0.9 });
  });

  it("a word list replaces the default's list, and the other lists stay", () => {
    const p = compilePolicy("version: 1\nscoring:\n  words:\n    linkTlds: [example]\n");
    expect([...p.lexicon.linkTlds]).toEqual(["example"]);
    expect(knobsOf(p)).toEqual({ ...knobsOf(DEFAULT), linkTlds: ["example"] });
  });

  it("a list inside a nested section replaces that list only", () => {
    const p = compilePolicy("version: 1\nscoring:\n  words:\n    verbs: { egress: [send] }\n");
    const table = new Map(p.lexicon.verbTable);
    expect(table.get("egress")).toEqual(["send"]);
    expect(table.get("delete")).toEqual(new Map(DEFAULT.lexicon.verbTable).get("delete"));
    expect(p.lexicon.kindOfWord.get("wire")).toBeUndefined();
    expect(DEFAULT.lexicon.kindOfWord.get("wire")).toBe("egress");
  });

  it("`extends: none` replaces the catalog and rules but keeps the default knobs", () => {
    const p = compilePolicy("version: 1\nextends: none\n");
    expect(p.rules).toEqual([]);
    expect(p.separationOfDuties).toEqual([]);
    expect(p.thresholds).toEqual(DEFAULT.thresholds);
    expect(knobsOf(p)).toEqual(knobsOf(DEFAULT));
  });

  it("`extends: none` merges a file's scoring over the default's too", () => {
    const p = compilePolicy("version: 1\nextends: none\nscoring:\n  burst: { minActions: 12 }\n");
    expect(p.burst).toEqual({ ...DEFAULT.burst, minActions: 12 });
  });

  it("a weight for a code no scorer raises is rejected (a misspelt code would leave its own weight at the default; issue 29)", () => {
    expect(() => compilePolicy("version: 1\nscoring:\n  weights: { custom.vendor_signal: 0.3 }\n")).toThrow(
      /policy\.yaml:3:14 scoring\.weights\.custom\.vendor_signal: unknown reason code "custom\.vendor_signal"/,
    );
    const p = compilePolicy("version: 1\nscoring:\n  weights: { context.new_ip: 0.3 }\n");
    for (const code of WEIGHTED_CODES) expect(p.weights[code]).toBe(code === "context.new_ip" ? 0.3 : DEFAULT.weights[code]);
  });

  it("the policy version changes with any knob", () =>
    expect(compilePolicy("version: 1\nscoring:\n  factors: { repeat: 0.4 }\n").version).not.toBe(compilePolicy("version: 1\n").version));
});

describe("a policy missing a reason code's weight", () => {
  it("is rejected, naming scoring.weights.<code>", async () => {
    // Files are merged over the shipped default, so only a default without the weight can lack it.
    const defaultPolicy = "../../src/core/policy/default-policy.js";
    const { DEFAULT_POLICY_YAML: shipped } = await vi.importActual<{ DEFAULT_POLICY_YAML: string }>(defaultPolicy);
    const without = shipped.replace(/^ {4}baseline\.harmful_burst: .*\n/m, "");
    expect(without).not.toBe(shipped);
    vi.resetModules();
    vi.doMock(defaultPolicy, () => ({ DEFAULT_POLICY_YAML: without }));
    try {
      const core = await import("../../src/core/index.js");
      let thrown: unknown;
      try {
        core.compilePolicy();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(core.PolicyError);
      expect((thrown as PolicyError).problems.map((p) => p.field)).toEqual(["scoring.weights.baseline.harmful_burst"]);
      expect((thrown as PolicyError).message).toContain("every reason code needs a weight");
      // A file that gives the weight completes the policy.
      expect(core.compilePolicy("version: 1\nscoring:\n  weights: { baseline.harmful_burst: 0.5 }\n").weights["baseline.harmful_burst"]).toBe(0.5);
    } finally {
      vi.doUnmock(defaultPolicy);
      vi.resetModules();
    }
  });
});

describe("bad knobs are errors with their line", () => {
  it("an unknown key under scoring names its field and line", () =>
    expect(problemsOf("version: 1\nscoring:\n  factors:\n    repeat: 0.5\n    bareNam: 0.2\n")[0]).toMatchObject({
      line: 5,
      column: 5,
      field: "scoring.factors.bareNam",
    }));

  it("an unknown word list names its field and line", () =>
    expect(problemsOf("version: 1\nscoring:\n  words:\n    grammar:\n      imperatives: [send]\n")[0]).toMatchObject({
      line: 5,
      field: "scoring.words.grammar.imperatives",
    }));

  it("an unknown section under scoring is reported on its own line", () =>
    expect(problemsOf("version: 1\nscoring:\n  halfLifeSeconds: 60\n  bursts: { minActions: 3 }\n")[0]).toMatchObject({ line: 4, field: "scoring.bursts" }));

  it("a factor out of range names its field", () =>
    expect(problemsOf("version: 1\nscoring:\n  factors: { repeat: 11 }\n")[0]).toMatchObject({ line: 3, field: "scoring.factors.repeat" }));

  it("a burst may not be configured down to a mere alert", () =>
    expect(problemsOf("version: 1\nscoring:\n  burst: { decision: alert }\n")[0]?.field).toBe("scoring.burst.decision"));

  it("compilePolicy throws a PolicyError carrying the same problems", () => {
    let thrown: unknown;
    try {
      compilePolicy("version: 1\nscoring:\n  outputs: { maxChars: 10 }\n", "mine.yaml");
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect((thrown as PolicyError).problems[0]).toMatchObject({ line: 3, field: "scoring.outputs.maxChars" });
    expect((thrown as PolicyError).message).toContain("mine.yaml:3:");
  });
});
