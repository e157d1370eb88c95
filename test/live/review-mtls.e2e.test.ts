import { request } from "node:https";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { CaseSummary, ReviewCase } from "../../src/app/cases.js";
import { heldExpenseStory } from "../support/review.js";
import { waitFor } from "../support/live.js";
import { reviewersPki } from "../support/pki.js";

// Reviewers known by a client certificate: the processor serves HTTPS, asks for client
// certificates and verifies them against the configured CA; a certificate whose subject CN
// is listed in VIGIL_REVIEW_MTLS_SUBJECTS is that reviewer. No certificate, one from
// another CA (even with a listed CN) or an unlisted CN gets 401; bearer tokens still work.

const TOKEN = "bob-review-token-0123456789";

const pki = () => reviewersPki("vigil-mtls-");

function call<T>(
  port: number,
  path: string,
  o: { ca: Buffer; client?: { cert: Buffer; key: Buffer }; token?: string; method?: string; body?: unknown },
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: o.method ?? "GET",
        ca: o.ca,
        ...(o.client ?? {}),
        headers: { "content-type": "application/json", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") as T }));
      },
    );
    req.on("error", reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}

describe("review API with client certificates (live)", () => {
  it("a listed CN from the reviewers' CA is the reviewer; others get 401; the overturn it makes restores the capability", { timeout: 120_000 }, async () => {
    const p = pki();
    const held = await heldExpenseStory("review-mtls", "bob", TOKEN, {
      VIGIL_HTTP_TLS_CERT_FILE: p.file("server.crt"),
      VIGIL_HTTP_TLS_KEY_FILE: p.file("server.key"),
      VIGIL_HTTP_TLS_CLIENT_CA_FILE: p.file("reviewers-ca.crt"),
      VIGIL_REVIEW_MTLS_SUBJECTS: "alice",
    });
    try {
      const port = held.running.httpPort;
      const ca = p.read("reviewers-ca.crt");
      const cert = (name: string) => ({ cert: p.read(`${name}.crt`), key: p.read(`${name}.key`) });
      // Health needs no certificate.
      expect((await call<{ status: string }>(port, "/healthz", { ca })).body.status).toBe("ok");
      for (const who of [{}, { client: cert("mallory") }, { client: cert("carol") }]) {
        expect((await call(port, "/api/review/cases", { ca, ...who })).status).toBe(401);
      }
      expect((await call(port, "/api/review/cases", { ca, token: TOKEN })).status).toBe(200);
      const listed = await call<{ cases: CaseSummary[] }>(port, "/api/review/cases", { ca, client: cert("alice") });
      expect(listed.status).toBe(200);
      const case1 = listed.body.cases.find((c) => c.sessionId === "exp-1") as CaseSummary;
      const decided = await call<{ verdict: { review: { reviewer: string; verdict: string } } }>(port, `/api/review/cases/${case1.caseId}/overturn`, {
        ca,
        client: cert("alice"),
        method: "POST",
        body: { note: "signed in with a certificate" },
      });
      expect(decided.status).toBe(202);
      expect(decided.body.verdict.review).toMatchObject({ verdict: "overturned", reviewer: "alice" });
      expect(await waitFor(() => held.enforcer.check("exp-1", "expense.approve", "ER-1042").outcome === "allow", 20_000)).toBe(true);
      const shown = await call<{ case: ReviewCase }>(port, `/api/review/cases/${case1.caseId}`, { ca, client: cert("alice") });
      expect(shown.body.case).toMatchObject({ state: "overturned", reviewer: "alice" });

      // The review page in Chromium with alice's certificate: no token asked, the other case listed.
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({ executablePath: process.env.VIGIL_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
        const context = await browser.newContext({
          ignoreHTTPSErrors: true,
          clientCertificates: [{ origin: `https://127.0.0.1:${port}`, certPath: p.file("alice.crt"), keyPath: p.file("alice.key") }],
        });
        const page = await context.newPage();
        await page.goto(`https://127.0.0.1:${port}/review`);
        await page.getByRole("button", { name: "Open case for exp-2" }).waitFor({ timeout: 15_000 });
        expect(await page.getByRole("status").textContent()).not.toMatch(/token/);
      } finally {
        await browser?.close();
      }
    } finally {
      await held.stop();
    }
  });
});
