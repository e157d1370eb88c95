import type { Browser } from "playwright-core";
import { openPage } from "../support/browser.js";
import { describe, expect, it } from "vitest";
import { heldExpenseStory } from "../support/review.js";
import { waitFor } from "../support/live.js";

// The review page in a real browser (Debian's headless Chromium through playwright-core),
// against the live processor, broker and Redis: a reviewer opens /review, signs in with a
// token, sees the held session, opens its case, overturns it, and the enforcement point
// allows the approval again. Keyboard only for the decisive steps, controls found by their
// accessible names: a page usable this way is usable with a screen reader or without a mouse.

const TOKEN = "dana-review-token-0123456789";

describe("the review page (live, headless Chromium)", () => {
  it("a reviewer sees the held session, overturns it, and the enforcer allows the capability again", { timeout: 120_000 }, async () => {
    const held = await heldExpenseStory("review-page", "dana", TOKEN);
    const { running, enforcer } = held;
    let browser: Browser | undefined;
    try {
      const opened = await openPage(`http://127.0.0.1:${running.httpPort}/review`);
      browser = opened.browser;
      const { page, problems } = opened;
      await expect.poll(() => page.getByRole("status").textContent()).toMatch(/token/);
      await page.getByLabel("Reviewer token").fill(TOKEN);
      await page.getByLabel("Reviewer token").press("Enter");
      const open = page.getByRole("button", { name: "Open case for exp-1" });
      await open.waitFor({ timeout: 15_000 });
      await expect.poll(() => page.getByRole("table", { name: /Sessions held for a person/ }).textContent()).toMatch(/sod\.self_approval/);
      await open.focus();
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Case for session exp-1" }).waitFor();
      await expect.poll(() => page.getByRole("table", { name: "Timeline" }).textContent()).toMatch(/expense\.approve/);
      // Why, in words, with the goal, as the processor stored it in Redis.
      expect(await page.locator("#explanation").textContent()).toMatch(
        /^Agent assistant-7 tried expense\.approve on ER-1042, but principal alice already did expense\.submit/,
      );
      expect(await page.locator("#goal").textContent()).toBe("File my trip report for the Berlin offsite and get it approved");
      await page.getByLabel("Note (optional)").fill("finance approved the trip in advance");
      await page.getByRole("button", { name: /^Overturn/ }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toMatch(/Overturned: case .* for session exp-1/);
      expect(await waitFor(() => enforcer?.check("exp-1", "expense.approve", "ER-1042").outcome === "allow", 20_000)).toBe(true);
      // The case leaves the pending list once the processor has applied the verdict.
      await expect
        .poll(
          async () => {
            await page.getByRole("button", { name: "Refresh" }).click();
            return page.getByRole("button", { name: "Open case for exp-1" }).count();
          },
          { timeout: 15_000 },
        )
        .toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
      await held.stop();
    }
  });
});
