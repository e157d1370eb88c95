import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { kindOf, policyFromCatalog, toolEntry } from "../../src/tooling/policy-from-catalog.js";
import { compilePolicy } from "../../src/core/index.js";

// `vigil policy from-catalog`: kinds, risks, egress arguments and toolkits inferred from a tool catalog.

describe("vigil policy from-catalog", () => {
  it("infers kind, risk and egress arguments from names and descriptions", () => {
    expect(
      toolEntry({ tool: "send_money", description: "Sends a transaction to the recipient.", parameters: [{ name: "recipient" }, { name: "amount" }] }),
    ).toEqual({
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
    expect(toolEntry({ tool: "post_webpage", parameters: [{ name: "content" }, { name: "target", description: "the URL to post to" }] }).egressArgs).toEqual([
      "target",
    ]);
  });

  it("produces a valid policy that extends the default, one entry per tool", () => {
    const text = policyFromCatalog(
      [{ tool: "get_balance" }, { tool: "send_money", parameters: [{ name: "recipient" }] }, { tool: "send_money" }],
      "tools.json",
    );
    const doc = parse(text) as { extends: string; tools: { capability: string }[] };
    expect(doc.extends).toBe("default");
    expect(doc.tools.map((t) => t.capability)).toEqual(["get_balance", "send_money"]);
    const policy = compilePolicy(text, "generated.yaml");
    expect(policy.tools.get("send_money")?.egressArgs).toEqual(["recipient"]);
    expect(policy.separationOfDuties.length).toBeGreaterThan(0);
  });

  describe("toolkit", () => {
    it("is emitted as the words of the catalog's toolkit name", () => {
      expect(toolEntry({ tool: "GmailSendEmail", toolkit: "Gmail" }).toolkit).toBe("gmail");
      expect(toolEntry({ tool: "EpicFHIRManageAppointments", toolkit: "EpicFHIR" }).toolkit).toBe("epic fhir");
    });

    it("is left out when the catalog gives none", () => expect(toolEntry({ tool: "get_balance" })).not.toHaveProperty("toolkit"));

    it("groups the tools of one application in the compiled policy", () => {
      const text = policyFromCatalog(
        [
          { tool: "GmailSendEmail", toolkit: "Gmail" },
          { tool: "GmailReadEmail", toolkit: "Gmail" },
          { tool: "AugustSmartLockUnlockDoor", toolkit: "AugustSmartLock" },
        ],
        "tools.json",
      );
      const policy = compilePolicy(text, "generated.yaml");
      expect(policy.toolkits.get("gmail")?.tools).toEqual(["GmailSendEmail", "GmailReadEmail"]);
      expect(policy.tools.get("AugustSmartLockUnlockDoor")?.toolkit).toBe("august smart lock");
    });
  });

  describe("risk of tools that change credentials or permissions", () => {
    it("a write to a password is critical, not medium", () =>
      expect(toolEntry({ tool: "update_password" })).toMatchObject({ kind: "write", risk: "critical" }));

    it("a change of role is critical", () => expect(toolEntry({ tool: "change_user_role" })).toMatchObject({ kind: "write", risk: "critical" }));

    it("a delete of an admin account is critical, not high", () =>
      expect(toolEntry({ tool: "delete_admin_account" })).toMatchObject({ kind: "delete", risk: "critical" }));

    it("a read of a password hint or of roles stays low", () => {
      expect(toolEntry({ tool: "get_password_hint" })).toMatchObject({ kind: "read", risk: "low" });
      expect(toolEntry({ tool: "list_user_roles" })).toMatchObject({ kind: "read", risk: "low" });
    });

    it("a write without such a word keeps the risk of its kind", () =>
      expect(toolEntry({ tool: "update_profile" })).toMatchObject({ kind: "write", risk: "medium" }));

    // Plurals name the same thing ("permissions", "roles").
    it("a write to permissions (plural) is critical", () =>
      expect(toolEntry({ tool: "update_permissions" })).toMatchObject({ kind: "write", risk: "critical" }));
  });
});
