import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Judge, JudgeQuestion } from "../../src/app/judge.js";

// One contract for every Judge: a verdict when the model gives one, and "no answer"
// (undefined, never a rejection, never later than the judge's timeout) for every way a
// model can fail. The model is a real local HTTP server speaking the chat-completions
// protocol; each implementation is built on the URL it gets.

type Model = (res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const says =
  (content: string): Model =>
  (res) =>
    json(res, 200, { id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] });

const question: JudgeQuestion = {
  goal: "Summarise my notes",
  principalId: "alice",
  agentId: "assistant",
  capability: "mail.send",
  description: "Send an e-mail",
  args: { to: "someone@example.com" },
  earlierCalls: ["notes.read"],
};

export function judgeContract(name: string, make: (url: string, timeoutMs: number) => Judge) {
  describe(`Judge contract: ${name}`, () => {
    let model: Model = says("{}");
    let server: Server;
    let url = "";
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on("end", () => model(res));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it("has a name for the records", () => {
      expect(make(url, 1000).name).toMatch(/\S/);
    });

    it("gives the model's verdict, drift or not", async () => {
      model = says('{"drift": true, "confidence": 0.9, "reason": "mails a stranger"}');
      expect(await make(url, 2000).assess(question)).toEqual(expect.objectContaining({ drift: true, confidence: 0.9, reason: "mails a stranger" }));
      model = says('{"drift": false, "confidence": 0.7, "reason": "what was asked"}');
      expect(await make(url, 2000).assess(question)).toEqual(expect.objectContaining({ drift: false, confidence: 0.7 }));
    });

    it.each<[string, Model]>([
      ["an answer that is not the JSON asked for", says("I think it is fine")],
      ["a confidence out of range", says('{"drift": true, "confidence": 7, "reason": "x"}')],
      ["an HTTP error", (res) => json(res, 500, { error: "overloaded" })],
      ["a body that is not JSON", (res) => res.end("<html>")],
    ])("answers nothing for %s", async (_what, m) => {
      model = m;
      await expect(make(url, 2000).assess(question)).resolves.toBeUndefined();
    });

    it("answers nothing, on time, when the model does not answer within the timeout", async () => {
      model = () => undefined; // never responds
      const started = performance.now();
      await expect(make(url, 300).assess(question)).resolves.toBeUndefined();
      expect(performance.now() - started).toBeLessThan(3000);
    });

    it("answers nothing when nobody listens", async () => {
      await expect(make("http://127.0.0.1:1/v1", 1000).assess(question)).resolves.toBeUndefined();
    });
  });
}
