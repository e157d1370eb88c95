import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpApp } from "../../src/adapters/http-app.js";
import { startHttp } from "../../src/adapters/http-server.js";
import { loadReviewers, reviewDoor } from "../../src/adapters/review-http.js";
import type { ReviewService } from "../../src/app/review-service.js";
import { ReviewError } from "../../src/app/review-service.js";

// The review API's HTTP edge, with a review service that knows no case: authentication,
// and input the routes must answer with 4xx instead of throwing out of the request handler.

const TOKEN = "erin-review-token-0123456789";
let server: Server;
let base: string;
const asked: string[] = [];

beforeAll(async () => {
  const none = (id: string) => {
    asked.push(id);
    return Promise.reject(new ReviewError(404, `no case ${id}`));
  };
  const service = { list: async () => [], show: none, decide: (d: { caseId: string }) => none(d.caseId) } as unknown as ReviewService;
  server = await startHttp("127.0.0.1", 0, httpApp().route("/", reviewDoor(service, loadReviewers({ inline: `erin:${TOKEN}` }))));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const call = async (method: string, path: string, body?: string, token: string | null = TOKEN) => {
  const res = await fetch(`${base}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, body: (await res.json()) as { error?: string; code?: string } };
};

describe("review API edge", () => {
  it("401 without a reviewer; 400 for a malformed case id or body; 413 past the body cap; the server keeps answering", async () => {
    expect((await call("GET", "/api/review/cases", undefined, null)).status).toBe(401);
    expect(await call("GET", "/api/review/cases/%E0%A4%A")).toEqual({
      status: 400,
      body: { error: "caseId: malformed percent-encoding in the path", code: "bad_request" },
    });
    expect(await call("POST", "/api/review/cases/c-1/confirm", "{")).toEqual({ status: 400, body: { error: "body: not JSON", code: "bad_request" } });
    expect(await call("POST", "/api/review/cases/c-1/confirm", JSON.stringify({ note: "x".repeat(20_000) }))).toEqual({
      status: 413,
      body: { error: "request body over the cap of 16384 bytes", code: "body_too_large" },
    });
    expect(await call("POST", "/api/review/cases/c%201/overturn", "{}")).toEqual({ status: 404, body: { error: "no case c 1", code: "not_found" } });
    expect(asked).toEqual(["c 1"]);
    expect((await call("GET", "/api/review/cases")).status).toBe(200);
  });
});
