import { readFileSync, readdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { openPage } from "../support/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpApp } from "../../src/adapters/http-app.js";
import { startHttp } from "../../src/adapters/http-server.js";
import { loadReviewers, reviewDoor } from "../../src/adapters/review-http.js";
import { loadPolicy } from "../../src/adapters/policy-file.js";
import type { CaseChange } from "../../src/app/cases.js";
import { caseChanges } from "../../src/app/cases.js";
import { InMemoryDurableState } from "../../src/app/in-memory-durable-state.js";
import { InMemoryStateStore } from "../../src/app/in-memory-store.js";
import { createPipeline } from "../../src/app/pipeline.js";
import { reviewService } from "../../src/app/review-service.js";
import { validateEvent } from "../../src/protocol/index.js";

// The review page in a real browser (Debian's headless Chromium through playwright-core):
// the cases the example scenarios open (two self-approvals, an exfiltration, a reach for
// secrets), decided by the real pipeline and served by the real review door, are sorted
// and filtered by severity, agent and reason in the page, and a case shows why it is held,
// the goal and the evidence (for a self-approval, the submission in the other session).
// No broker: the cases are built in memory, as the processor builds them.

const TOKEN = "fay-review-token-0123456789";
const root = join(import.meta.dirname, "..", "..");

async function heldCases(): Promise<InMemoryDurableState> {
  const store = new InMemoryStateStore();
  const pipeline = createPipeline({ policy: () => loadPolicy(undefined), store });
  const changes: CaseChange[] = [];
  const dir = join(root, "examples", "scenarios");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean)) {
      const v = validateEvent(JSON.parse(line));
      if (!v.ok) throw new Error(`${file}: ${v.error}`);
      const before = store.session(v.value.sessionId);
      const out = pipeline.handle(v.value);
      const after = store.session(v.value.sessionId);
      if (after && (after.openCase || before?.openCase)) changes.push(...caseChanges(before, after, v.value, out.decision, out.commands, out.explanations));
    }
  }
  const cases = new InMemoryDurableState();
  await cases.persist({ sessions: [], baselines: [], sodAppends: [], cases: changes });
  return cases;
}

/** The cases table's rows as [severity, session, agent] and the number of rows. */
const rows = (page: Page) =>
  page.$$eval("#cases tbody tr", (trs) =>
    trs.map((tr) =>
      [...tr.querySelectorAll("td")]
        .slice(0, 3)
        .map((td) => td.textContent ?? "")
        .join(" "),
    ),
  );

let server: Server;
let base: string;
beforeAll(async () => {
  const service = reviewService({ cases: await heldCases(), publish: async () => {}, now: () => Date.now(), newId: () => "1" });
  server = await startHttp("127.0.0.1", 0, httpApp().route("/", reviewDoor(service, loadReviewers({ inline: `fay:${TOKEN}` }))));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("the review page sorts, filters and explains (headless Chromium)", () => {
  it(
    "sorts by severity and agent, filters by severity, agent and reason, and shows a case's explanation, goal and evidence",
    { timeout: 120_000 },
    async () => {
      let browser: Browser | undefined;
      try {
        const opened = await openPage(`${base}/review`);
        browser = opened.browser;
        const { page, problems } = opened;
        await page.getByLabel("Reviewer token").fill(TOKEN);
        await page.getByLabel("Reviewer token").press("Enter");
        await expect.poll(() => page.getByRole("status").textContent()).toBe("4 case(s) waiting.");
        const table = page.getByRole("table", { name: /Sessions held for a person/ });
        // Each row says why in words, not only in codes.
        await expect
          .poll(() => table.textContent())
          .toMatch(/Agent mobile-agent-2 tried expense\.approve on ER-1042, but principal alice already did expense\.submit on it in session exp-1/);

        await page.getByLabel("Sort by").selectOption({ label: "Severity, highest first" });
        const bySeverity = await rows(page);
        expect(bySeverity.map((r) => r.split(" ")[0])).toEqual(["high", "high", "medium", "medium"]);
        expect(
          bySeverity
            .slice(0, 2)
            .map((r) => r.split(" ")[1])
            .sort(),
        ).toEqual(["code-1", "crm-1"]);

        await page.getByLabel("Sort by").selectOption({ label: "Agent, A to Z" });
        expect((await rows(page)).map((r) => r.split(" ")[2])).toEqual(["assistant-7", "code-helper", "mobile-agent-2", "support-bot"]);
        expect(await table.textContent()).toMatch(/agent, a to z/);

        await page.getByLabel("Agent").selectOption("mobile-agent-2");
        expect(await rows(page)).toEqual(["medium exp-2 mobile-agent-2"]);
        await expect.poll(() => page.getByRole("status").textContent()).toBe("1 of 4 case(s) shown.");
        await page.getByLabel("Agent").selectOption({ label: "All agents" });

        await page.getByLabel("Reason").selectOption("sod.self_approval");
        expect((await rows(page)).map((r) => r.split(" ")[1])).toEqual(["exp-1", "exp-2"]);
        await page.getByLabel("Severity").selectOption("high");
        expect(await rows(page)).toEqual([]);
        await page.getByLabel("Reason").selectOption({ label: "All reasons" });
        expect((await rows(page)).map((r) => r.split(" ")[1]).sort()).toEqual(["code-1", "crm-1"]);
        await page.getByLabel("Severity").selectOption({ label: "All severities" });
        expect(await rows(page)).toHaveLength(4);

        // The case: the sentence, the goal, and the submission in the other session as evidence.
        await page.getByRole("button", { name: "Open case for exp-2" }).click();
        await page.getByRole("heading", { name: "Case for session exp-2" }).waitFor();
        expect(await page.locator("#explanation").textContent()).toMatch(
          /^Agent mobile-agent-2 tried expense\.approve on ER-1042, but principal alice already did expense\.submit on it in session exp-1 \(agent assistant-7\) at 2026-11-28T09:00:05Z/,
        );
        expect(await page.locator("#goal").textContent()).not.toBe("The session declared no goal.");
        const evidence = await page.getByRole("table", { name: "Evidence" }).textContent();
        expect(evidence).toMatch(/Conflicts with \(separation of duties\).*exp-1.*assistant-7.*expense\.submit.*exp-1#1/);
        expect(evidence).toMatch(/The held event.*exp-2 \(this session\)/);
        expect(problems).toEqual([]);
      } finally {
        await browser?.close();
      }
    },
  );
});
