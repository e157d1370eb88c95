import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSigningJwk } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { CaseSummary } from "../../src/app/cases.js";
import type { Command } from "../../src/protocol/index.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { brokers } from "../support/stack-env.js";
import { isolatedEnv, jsonValues, produce, readAll, untilProcessed, waitFor } from "../support/live.js";

// Just-in-time grants beyond the declared capabilities, against the real broker and Redis,
// with a policy that caps mail grants at 3 s and makes payments wait for a reviewer. A
// session declares only docs.read; its goal asks to mail a report and pay an invoice:
//   - mail.send (the goal asks for it) is granted; the enforcer allows it, then denies it
//     once the grant expires by its own clock;
//   - calendar.delete (unrelated) is denied;
//   - payments.send waits: a review case holds the request; a reviewer confirms it through
//     the API; the grant is for the invoice asked only.

const TOKEN = "erin-review-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "vigil-jit-"));
const policyFile = join(dir, "policy.yaml");
writeFileSync(policyFile, 'version: 1\ngrants:\n  never: ["secrets.*"]\n  review: ["payments.*"]\n  maxTtlSeconds: { "mail.*": 3 }\n');

describe("just-in-time grants beyond the declared list (live)", () => {
  it(
    "a goal-backed grant is granted and expires at the enforcer, an unrelated one is denied, a reviewed one waits for confirm",
    { timeout: 120_000 },
    async () => {
      const env = isolatedEnv("jit", {
        VIGIL_POLICY_FILE: policyFile,
        VIGIL_REVIEW_TOKENS: `erin:${TOKEN}`,
        VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()),
      });
      const config = loadConfig(env);
      let running: Running | undefined;
      let enforcer: Enforcer | undefined;
      const now = Date.now();
      const t = (s: number) => new Date(now + s * 1000).toISOString();
      const who = { sessionId: "jit-1", agent: { id: "office-agent" }, principal: { id: "dora" } };
      const event = (id: string, s: number, rest: Record<string, unknown>) => ({
        key: who.sessionId,
        value: JSON.stringify({ ...who, eventId: `jit-1#${id}`, time: t(s), ...rest }),
      });
      try {
        running = await startVigil(env);
        enforcer = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, verify: { jwks: running.jwks } });
        await enforcer.start();
        await produce(config.topics.events, [
          event("0", 0, {
            type: "session.started",
            intent: { goal: "Send the quarterly report to the finance team by mail and pay the ACME invoice", capabilities: ["docs.read"] },
            grants: ["docs.read"],
          }),
          event("1", 0, { type: "grant.requested", capability: "mail.send", ttlSeconds: 600, purpose: "send the report" }),
          event("2", 0, { type: "grant.requested", capability: "payments.send", ttlSeconds: 600, resource: { type: "invoice", id: "INV-9" } }),
          // Last: an unrelated request also raises the session's risk.
          event("3", 0, { type: "grant.requested", capability: "calendar.delete" }),
        ]);
        await untilProcessed(config.kafka.groupId, config.topics.events);
        const commands = jsonValues<Command>(await readAll(config.topics.commands));
        expect(commands.map((c) => [c.type, c.reasons[0]?.code, c.review.required])).toEqual([
          ["grant", "grant.goal_backed", false],
          ["deny_grant", "grant.needs_review", true],
          ["deny_grant", "intent.out_of_scope", false],
        ]);
        expect(commands[0]?.grant).toEqual({ capability: "mail.send" });
        expect(Date.parse(commands[0]?.expiresAt as string) - now).toBe(3000);

        // The enforcement point enforces the expiry by its own clock.
        expect(await waitFor(() => (enforcer?.session("jit-1")?.grants ?? []).some((g) => g.capability === "mail.send"), 10_000)).toBe(true);
        if (Date.now() < now + 2500) expect(enforcer.check("jit-1", "mail.send")).toEqual({ outcome: "allow" });
        expect(await waitFor(() => enforcer?.check("jit-1", "mail.send").outcome === "deny", 10_000)).toBe(true);
        expect(enforcer.check("jit-1", "mail.send")).toMatchObject({ reason: expect.stringMatching(/just-in-time grant of mail\.send expired/) });

        // The reviewed request: a case, confirmed through the API, then granted for INV-9 only.
        const api = async (path: string, init: RequestInit = {}) =>
          (
            await fetch(`http://127.0.0.1:${running?.httpPort}${path}`, {
              ...init,
              headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            })
          ).json() as Promise<Record<string, unknown>>;
        const cases = (await api("/api/review/cases")).cases as CaseSummary[];
        expect(cases.map((c) => [c.sessionId, c.reasons.map((r) => r.code)])).toEqual([["jit-1", ["grant.needs_review"]]]);
        expect(enforcer.session("jit-1")?.grants?.some((g) => g.capability === "payments.send") ?? false).toBe(false);
        await api(`/api/review/cases/${(cases[0] as CaseSummary).caseId}/confirm`, { method: "POST", body: JSON.stringify({ note: "invoice checked" }) });
        expect(await waitFor(() => (enforcer?.session("jit-1")?.grants ?? []).some((g) => g.capability === "payments.send"), 20_000)).toBe(true);
        expect(enforcer.check("jit-1", "payments.send", "INV-9")).toEqual({ outcome: "allow" });
        expect(enforcer.check("jit-1", "payments.send", "INV-10")).toEqual({ outcome: "deny", reason: "payments.send is granted just in time only on INV-9" });
        const granted = jsonValues<Command>(await readAll(config.topics.commands)).find((c) => c.type === "grant" && c.grant?.capability === "payments.send");
        expect(granted?.review).toEqual({ required: false, status: "confirmed" });
        expect(granted?.reasons[0]?.code).toBe("review.confirmed");
      } finally {
        await enforcer?.stop();
        await running?.stop();
      }
    },
  );
});
