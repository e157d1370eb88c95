import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

// The review page's browser tests: Debian's headless Chromium (VIGIL_CHROMIUM to use another).

export const CHROMIUM = process.env.VIGIL_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Launches Chromium and opens `url`; `problems` collects the page's errors and console
 * errors, which a test expects to stay empty. Close `browser` when done.
 */
export async function openPage(url: string): Promise<{ browser: Browser; page: Page; problems: string[] }> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} (apt-get install -y chromium, or set VIGIL_CHROMIUM)`).toBe(true);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  await page.goto(url);
  return { browser, page, problems };
}
