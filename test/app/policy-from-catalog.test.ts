import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { kindOf, policyFromCatalog, toolEntry } from "../../src/app/policy-from-catalog.js";
import { compilePolicy } from "../../src/core/index.js";

describe("vigil policy from-catalog", () => {
  it("infers kind, risk and egress arguments from names and descriptions", () => {
    expect(toolEntry({ tool: "send_money", description: "Sends a transaction to the recipient.", parameters: [{ name: "recipient" }, { name: "amount" }] })).toEqual({
      capability: "send_money",
      description: "Sends a transaction to the recipient.",
      kind: "egress",
      risk: "high",
      egressArgs: ["recipient"],
    });
    expect(kindOf({ tool: "GmailReadEmail" })).toBe("read");
    expect(kindOf({ tool: "TerminalExecute" })).toBe("execute");
    expect(kindOf({ tool: "delete_file" })).toBe("delete");
    expect(kindOf({ tool: "mystery", description: "Returns the weather." })).toBe("read");
    expect(kindOf({ tool: "mystery" })).toBeUndefined();
    expect(toolEntry({ tool: "post_webpage", parameters: [{ name: "content" }, { name: "target", description: "the URL to post to" }] }).egressArgs).toEqual(["target"]);
  });

  it("produces a valid policy that extends the default, one entry per tool", () => {
    const text = policyFromCatalog([{ tool: "get_balance" }, { tool: "send_money", parameters: [{ name: "recipient" }] }, { tool: "send_money" }], "tools.json");
    const doc = parse(text) as { extends: string; tools: { capability: string }[] };
    expect(doc.extends).toBe("default");
    expect(doc.tools.map((t) => t.capability)).toEqual(["get_balance", "send_money"]);
    const policy = compilePolicy(text, "generated.yaml");
    expect(policy.tools.get("send_money")?.egressArgs).toEqual(["recipient"]);
    expect(policy.separationOfDuties.length).toBeGreaterThan(0);
  });
});
