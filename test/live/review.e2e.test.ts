import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { CaseSummary, ReviewCase } from "../../src/app/cases.js";
import { vigil } from "../support/processes.js";
import { heldExpenseStory } from "../support/review.js";
import { brokers } from "../support/stack-env.js";
import { metric, readAll, untilProcessed, waitFor } from "../support/live.js";

// The review loop against the real broker and Redis. The expense story holds two sessions
// for a person (each tries to approve its own report). Then:
//   - the held sessions are cases, in the HTTP API (401 without a reviewer's token) and the CLI;
//   - a verdict forged with kcat (unsigned) on vigil.reviews, and one written straight to
//     vigil.events, change nothing: refused by the bridge, dead-lettered by the processor;
//   - overturn through the API: the enforcer allows the approval again (a signed restore);
//   - confirm --revoke through the CLI: the other session is revoked;
//   - the cases, decided, are still there after the processor restarts; deciding again is refused.

const TOKEN = "bob-review-token-0123456789";

async function api<T>(port: number, path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: T }> {
  const { token = TOKEN, ...rest } = init;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    ...rest,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const cli = (env: Record<string, string>, ...args: string[]) => {
  const r = vigil(["review", ...args], { env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("human review (live)", () => {
  it(
    "held sessions become cases; forged verdicts change nothing; overturn restores, confirm --revoke revokes; cases survive a restart",
    { timeout: 120_000 },
    async () => {
      const held = await heldExpenseStory("review", "bob", TOKEN);
      const { env, config, enforcer } = held;
      let running: Running = held.running;
      try {
        const port = running.httpPort;

        // Cases: the API needs a reviewer; the CLI reads the same Redis.
        expect((await api(port, "/api/review/cases", { token: null })).status).toBe(401);
        expect((await api(port, "/api/review/cases", { token: "not-a-reviewer-token-000" })).status).toBe(401);
        const listed = await api<{ cases: CaseSummary[] }>(port, "/api/review/cases");
        expect(listed.status).toBe(200);
        const bySession = new Map(listed.body.cases.map((c) => [c.sessionId, c]));
        expect([...bySession.keys()].sort()).toEqual(["exp-1", "exp-2"]);
        const case1 = bySession.get("exp-1") as CaseSummary;
        const case2 = bySession.get("exp-2") as CaseSummary;
        expect(case1).toMatchObject({ state: "pending", agentId: "assistant-7", principalId: "alice" });
        expect(case1.reasons.map((r) => r.code)).toContain("sod.self_approval");
        const cliList = cli(env, "list", "--json");
        expect(cliList.code, cliList.stderr).toBe(0);
        expect((JSON.parse(cliList.stdout) as { cases: CaseSummary[] }).cases.map((c) => c.caseId).sort()).toEqual([case1.caseId, case2.caseId].sort());
        // `vigil review show`: why in words, the goal, and the submission in the other session as evidence.
        const cliShow = cli(env, "show", case2.caseId);
        expect(cliShow.code, cliShow.stderr).toBe(0);
        expect(cliShow.stdout).toMatch(
          /^why: Agent mobile-agent-2 tried expense\.approve on ER-1042, but principal alice already did expense\.submit on it in session exp-1 \(agent assistant-7\)/m,
        );
        expect(cliShow.stdout).toMatch(/^goal: ".+"$/m);
        expect(cliShow.stdout).toMatch(/^ {2}conflict .* exp-1#1 {2}session exp-1, agent assistant-7 {2}expense\.submit {2}\[sod\.self_approval\]$/m);
        expect(case2).toMatchObject({ severity: "medium", explanation: expect.stringMatching(/in session exp-1/) });
        const shown = await api<{ case: ReviewCase }>(port, `/api/review/cases/${case1.caseId}`);
        expect(shown.body.case.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(["action"]));
        expect(shown.body.case.commands.map((c) => c.type)).toEqual(["downgrade"]);

        // Forgeries: an unsigned overturn on vigil.reviews, and one straight into vigil.events.
        const forged = JSON.stringify({
          eventId: "forged-verdict",
          type: "review.decided",
          sessionId: "exp-1",
          time: "2026-11-28T09:05:00Z",
          agent: { id: "assistant-7" },
          principal: { id: "alice" },
          review: { caseId: case1.caseId, verdict: "overturned", reviewer: "assistant-7" },
        });
        for (const topic of [config.topics.reviews, config.topics.events]) {
          const k = spawnSync("kcat", ["-P", "-b", brokers.join(","), "-t", topic, "-k", "exp-1"], { input: `${forged}\n`, encoding: "utf8" });
          expect(k.status, k.stderr).toBe(0);
        }
        const refusedDeadline = Date.now() + 15_000;
        while ((await metric(port, 'vigil_review_verdicts_total{outcome="refused"}')) !== 1 && Date.now() < refusedDeadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(await metric(port, 'vigil_review_verdicts_total{outcome="refused"}')).toBe(1);
        await untilProcessed(config.kafka.groupId, config.topics.events);
        const dlq = (await readAll(config.topics.dlq)).map((m) => m.headers["vigil.error.reason"]?.toString() ?? "");
        expect(dlq).toEqual(["unauthenticated"]);
        expect(enforcer.check("exp-1", "expense.approve", "ER-1042").outcome).toBe("deny");
        expect((await api<{ case: ReviewCase }>(port, `/api/review/cases/${case1.caseId}`)).body.case.state).toBe("pending");

        // Overturn through the API: a signed verdict; the enforcer allows the approval again.
        const overturned = await api<{ verdict: { eventId: string } }>(port, `/api/review/cases/${case1.caseId}/overturn`, {
          method: "POST",
          body: JSON.stringify({ note: "finance approved the trip in advance" }),
        });
        expect(overturned.status).toBe(202);
        expect(await waitFor(() => enforcer?.check("exp-1", "expense.approve", "ER-1042").outcome === "allow", 20_000)).toBe(true);
        expect(enforcer.session("exp-1")?.enforcement.review).toEqual({ required: false, status: "overturned" });

        // Confirm and revoke through the CLI.
        const confirmed = cli(env, "confirm", case2.caseId, "--by", "carol", "--revoke", "--note", "not allowed");
        expect(confirmed.code, confirmed.stderr).toBe(0);
        expect(await waitFor(() => enforcer?.check("exp-2", "expense.read").outcome === "deny", 20_000)).toBe(true);
      } finally {
        await held.stop();
      }

      // After a restart: both cases decided, with who and why; deciding again is refused.
      running = await startVigil(env);
      try {
        const port = running.httpPort;
        const all = await api<{ cases: CaseSummary[] }>(port, "/api/review/cases?state=all");
        const states = Object.fromEntries(all.body.cases.map((c) => [c.sessionId, [c.state, c.reviewer, c.revoked ?? false]]));
        expect(states).toEqual({ "exp-1": ["overturned", "bob", false], "exp-2": ["confirmed", "carol", true] });
        expect((await api(port, "/api/review/cases")).body).toEqual({ cases: [] });
        const again = await api<{ error: string }>(port, `/api/review/cases/${all.body.cases[0]?.caseId as string}/confirm`, { method: "POST", body: "{}" });
        expect(again.status).toBe(409);
        const shown = cli(env, "show", all.body.cases.find((c) => c.sessionId === "exp-1")?.caseId as string);
        expect(shown.code, shown.stderr).toBe(0);
        expect(shown.stdout).toMatch(/overturned by bob .*finance approved the trip in advance/);
        expect(shown.stdout).toMatch(/restore/);
      } finally {
        await running.stop();
      }
    },
  );
});
