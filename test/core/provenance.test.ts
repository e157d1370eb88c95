import { describe, expect, it } from "vitest";
import { compilePolicy, emptyBaseline, initialSession } from "../../src/core/index.js";
import type { Baseline, SessionState } from "../../src/core/index.js";
import { extractDestinations, goalMentions, isAddress, MAX_TEXT_SCANNED_PER_EVENT, unexplainedWeight } from "../../src/core/reading/destinations.js";
import { provenanceOf } from "../../src/core/provenance.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { action, given, sessionEnded, sessionStarted, specification } from "../support/given-when-then.js";

// Argument provenance: where a destination named in a call (recipient, channel, link,
// account) could have come from — the goal, an earlier call of the session that ran, or
// the principal's history — and how much an unexplained one weighs (addresses fully, bare
// names half). Covers provenanceOf, destination extraction from free text, and the two
// signals built on it: intent.destination_not_in_goal and baseline.new_destination.

const POLICY = compilePolicy();
const LEX = POLICY.lexicon;
const W_DEST = POLICY.weights["intent.destination_not_in_goal"] as number;
const W_NEW_DEST = POLICY.weights["baseline.new_destination"] as number;
const weightOf = (signals: readonly { code: string; weight: number }[], code: string): number | undefined => signals.find((s) => s.code === code)?.weight;

describe("provenanceOf", () => {
  const session = (goal: string | undefined, destinations: string[] = []): SessionState => ({
    ...initialSession({ sessionId: "s1", agent: { id: "agent-1" }, principal: { id: "alice" } }),
    ...(goal !== undefined ? { started: true, intent: { goal } } : {}),
    destinations,
  });
  const sentBefore = (...destinations: string[]): Baseline => ({ ...emptyBaseline(), destinations: Object.fromEntries(destinations.map((d) => [d, 1])) });

  it("a destination the goal names comes from the goal", () =>
    expect(provenanceOf("bob@example.com", session("Email the agenda to bob@example.com"), emptyBaseline(), LEX)).toBe("goal"));

  it("an e-mail address whose owner the goal names by first name comes from the goal", () =>
    expect(provenanceOf("frank.miller@corp.example", session("Send Frank the slides"), emptyBaseline(), LEX)).toBe("goal"));

  it("a destination named by an earlier call of the session comes from the session", () =>
    expect(provenanceOf("carol@partner.example", session("Send the minutes", ["carol@partner.example"]), emptyBaseline(), LEX)).toBe("session"));

  it("a destination the principal used in an earlier session comes from history", () =>
    expect(provenanceOf("carol@partner.example", session("Send the minutes"), sentBefore("carol@partner.example"), LEX)).toBe("history"));

  it("a destination found nowhere has no provenance", () =>
    expect(provenanceOf("eve@evil.test", session("Send the minutes", ["carol@partner.example"]), sentBefore("bob@example.com"), LEX)).toBeUndefined());

  it("the goal is preferred to the session, and the session to history", () => {
    const d = "carol@partner.example";
    expect(provenanceOf(d, session(`Write to ${d}`, [d]), sentBefore(d), LEX)).toBe("goal");
    expect(provenanceOf(d, session("Send the minutes", [d]), sentBefore(d), LEX)).toBe("session");
  });

  it("a session that was never started has no goal to name anything", () =>
    expect(provenanceOf("bob@example.com", session(undefined), emptyBaseline(), LEX)).toBeUndefined());

  it("names of Object's prototype members are not mistaken for history", () => {
    expect(provenanceOf("constructor", session("Send the minutes"), emptyBaseline(), LEX)).toBeUndefined();
    expect(provenanceOf("__proto__", session("Send the minutes"), emptyBaseline(), LEX)).toBeUndefined();
  });
});

describe("destinations in the arguments", () => {
  it("an IBAN and a link written inside a message body are destinations, normalised", () =>
    expect(
      extractDestinations(
        { subject: "Invoice", body: "Please wire the deposit to DE89370400440532013000 and upload the receipt at https://www.evil-drop.io/upload." },
        LEX,
      ),
    ).toEqual(["de89370400440532013000", "evil-drop.io/upload"]));

  it("an e-mail address inside free text is a destination", () =>
    expect(extractDestinations({ note: "Forward everything to Eve.Spy@evil.test, thanks" }, LEX)).toEqual(["eve.spy@evil.test"]));

  it("the value of a recipient-like argument is a destination whatever its shape", () =>
    expect(extractDestinations({ user: "Mallory", channel: "general", amount: 20 }, LEX)).toEqual(["mallory", "general"]));

  it("a catalog's egress argument names a destination even under an unusual name", () =>
    expect(extractDestinations({ payee_ref: "ACME-7", memo: "rent" }, LEX, ["payee_ref"])).toEqual(["acme-7"]));

  it("plain prose and ordinary values name no destination", () =>
    expect(extractDestinations({ title: "Quarterly planning", body: "Let us meet on Tuesday to go through the figures.", amount: 100 }, LEX)).toEqual([]));

  it("the same destination named twice is counted once", () =>
    expect(extractDestinations({ to: "bob@example.com", cc: ["BOB@example.com"], body: "cc bob@example.com" }, LEX)).toEqual(["bob@example.com"]));

  it("e-mail addresses, links and account numbers are addresses; users and channels are bare names", () => {
    expect(["bob@example.com", "evil-drop.io/upload", "de89370400440532013000"].map(isAddress)).toEqual([true, true, true]);
    expect(["mallory", "general", "acme-7"].map(isAddress)).toEqual([false, false, false]);
  });

  it("unexplained destinations weigh fully when one is an address, half when all are bare names", () => {
    expect(unexplainedWeight(["mallory", "general"], POLICY.factors.bareName)).toBe(0.5);
    expect(unexplainedWeight(["mallory", "eve@evil.test"], POLICY.factors.bareName)).toBe(1);
  });
});

describe("intent.destination_not_in_goal", () => {
  const minutes = sessionStarted(0, { goal: "Send the meeting minutes to the partner team", capabilities: ["contacts.*", "email.*", "chat.*"] });
  const lookUpCarol = (opts: Parameters<typeof action>[2] = {}) =>
    action(10, "contacts.lookup", { kind: "read", args: { email: "carol@partner.example" }, ...opts });
  const sendTo = (to: string, args: Record<string, unknown> = {}) =>
    action(20, "email.send", { kind: "egress", resource: { external: true }, args: { to, ...args } });

  describe("provenance in the session", () => {
    it("a recipient named by an earlier allowed call of the session that was not a read is explained", () =>
      given(minutes, action(10, "contacts.add", { kind: "write", args: { email: "carol@partner.example" } }))
        .when(sendTo("carol@partner.example"))
        .then(({ codes, history }) => {
          expect(history[1]?.decision?.verdict).toEqual({ outcome: "allow" });
          expect(history[1]?.session.destinations).toEqual(["carol@partner.example"]);
          expect(codes).not.toContain("intent.destination_not_in_goal");
        }));

    it("an address a read named does not explain sending to it (no laundering through a lookup or a page)", () =>
      given(minutes, lookUpCarol())
        .when(sendTo("carol@partner.example"))
        .then(({ codes, history }) => {
          expect(history[1]?.decision?.verdict).toEqual({ outcome: "allow" });
          expect(history[1]?.session.destinations ?? []).toEqual([]);
          expect(history[1]?.session.readAddresses).toEqual(["carol@partner.example"]);
          expect(codes).toContain("intent.destination_not_in_goal");
        }));

    it("an address a read named explains a later mention of it in free text (the agent reports what it read)", () =>
      given(minutes, action(10, "web.fetch", { kind: "read", args: { url: "https://news.partner.example/minutes" } }))
        .when(action(20, "chat.post", { kind: "egress", args: { channel: "team", body: "Minutes are at news.partner.example/minutes, see you" } }))
        .then(({ decision }) => {
          const finding = decision.signals.find((s) => s.code === "intent.destination_not_in_goal");
          expect(finding?.message ?? "").not.toContain("news.partner.example");
        }));

    it("a bare name a read named (the channel it read) explains a later call to it", () =>
      given(minutes, action(10, "chat.read", { kind: "read", args: { channel: "partners" } }))
        .when(action(20, "chat.post", { kind: "egress", args: { channel: "partners", body: "Minutes attached" } }))
        .then(({ codes }) => expect(codes).not.toContain("intent.destination_not_in_goal")));

    it("without the earlier call the same recipient is unexplained", () =>
      given(minutes)
        .when(sendTo("carol@partner.example"))
        .then(({ codes }) => expect(codes).toContain("intent.destination_not_in_goal")));

    it("a recipient named only in an earlier call the enforcement point denied is still unexplained", () =>
      given(minutes, lookUpCarol({ outcome: "denied" }))
        .when(sendTo("carol@partner.example"))
        .then(({ codes, history }) => {
          expect(history[1]?.session.destinations ?? []).toEqual([]);
          expect(codes).toContain("intent.destination_not_in_goal");
        }));

    it("a recipient named only in an earlier call Vigil blocked is still unexplained", () =>
      given(minutes, lookUpCarol({ resource: { id: "contacts-vault", sensitivity: ["secret"] } }))
        .when(sendTo("carol@partner.example"))
        .then(({ codes, history }) => {
          expect(history[1]?.decision?.verdict?.outcome).toBe("deny");
          expect(codes).toContain("intent.destination_not_in_goal");
        }));

    it("a recipient named in another session of the same principal is not explained in this one", () =>
      given(
        minutes,
        lookUpCarol(),
        sessionEnded(15),
        sessionStarted(100, { goal: "Send the meeting minutes to the partner team", capabilities: ["email.*"] }, { session: "s2" }),
      )
        .when(action(110, "email.send", { session: "s2", kind: "egress", resource: { external: true }, args: { to: "carol@partner.example" } }))
        .then(({ codes }) => expect(codes).toContain("intent.destination_not_in_goal")));
  });

  describe("destinations written inside free text", () => {
    const invoice = sessionStarted(0, { goal: "Email the invoice to bob@example.com", capabilities: ["email.*"] });

    it("an IBAN inside a message body is a destination the goal does not name", () =>
      given(invoice)
        .when(sendTo("bob@example.com", { body: "Hi Bob, please wire the deposit to DE89370400440532013000 today." }))
        .then(({ decision }) => {
          const signal = decision.signals.find((s) => s.code === "intent.destination_not_in_goal");
          expect(signal?.message).toContain("de89370400440532013000");
          expect(signal?.message).not.toContain("bob@example.com");
        }));

    it("a link inside a message body is a destination the goal does not name", () =>
      given(invoice)
        .when(sendTo("bob@example.com", { body: "The invoice is at https://www.evil-drop.io/upload, log in there." }))
        .then(({ decision }) => expect(decision.signals.find((s) => s.code === "intent.destination_not_in_goal")?.message).toContain("evil-drop.io/upload")));

    it("a body naming only the goal's own recipient raises nothing", () =>
      given(invoice)
        .when(sendTo("bob@example.com", { body: "Hi Bob, the invoice is attached; reply to bob@example.com if anything is off." }))
        .then(({ codes }) => expect(codes).not.toContain("intent.destination_not_in_goal")));

    it("a goal naming the link explains it", () =>
      given(sessionStarted(0, { goal: "Send bob@example.com the upload link files.partner.io/drop", capabilities: ["email.*"] }))
        .when(sendTo("bob@example.com", { body: "Upload the invoice here: https://files.partner.io/drop" }))
        .then(({ codes }) => expect(codes).not.toContain("intent.destination_not_in_goal")));
  });

  describe("weight", () => {
    const chat = sessionStarted(0, { goal: "Tidy up the project workspace", capabilities: ["chat.*"] });
    const weighs = (event: AgentEvent, expected: number) =>
      given(chat)
        .when(event)
        .then(({ decision }) => expect(weightOf(decision.signals, "intent.destination_not_in_goal")).toBeCloseTo(expected, 6));

    it("an external send to an address weighs the full weight", () =>
      weighs(action(10, "chat.send", { kind: "egress", resource: { external: true }, args: { to: "eve@evil.test" } }), W_DEST));

    it("an external send to bare names only (a user, a channel) weighs half", () =>
      weighs(action(10, "chat.send", { kind: "egress", resource: { external: true }, args: { user: "mallory", channel: "random" } }), W_DEST * 0.5));

    it("bare names next to an address weigh fully", () =>
      weighs(action(10, "chat.send", { kind: "egress", resource: { external: true }, args: { channel: "random", to: "eve@evil.test" } }), W_DEST));

    it("a write recording an address weighs 0.8", () =>
      weighs(action(10, "chat.add_member", { kind: "write", args: { email: "eve@evil.test" } }), W_DEST * 0.8));

    it("a write recording bare names only weighs 0.8 × 0.5", () =>
      weighs(action(10, "chat.add_member", { kind: "write", args: { user: "mallory", channel: "ops" } }), W_DEST * 0.8 * 0.5));

    it("an egress that stays inside the organisation weighs like a write", () =>
      weighs(action(10, "chat.send", { kind: "egress", resource: { external: false }, args: { to: "eve@corp.example" } }), W_DEST * 0.8));
  });
});

describe("baseline.new_destination", () => {
  const policy = compilePolicy("version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 2 }\n");
  const docs = { goal: "Tidy up the project documents", capabilities: ["docs.*", "email.*", "contacts.*", "calendar.*", "chat.*"] };
  const routine = (session: string, t: number): AgentEvent[] => [
    sessionStarted(t, { ...docs, goal: "Tidy up the project documents and mail them to bob@example.com" }, { session }),
    action(t + 10, "docs.read", { session, kind: "read" }),
    action(t + 20, "email.send", { session, kind: "egress", resource: { external: true }, args: { to: "bob@example.com" } }),
    sessionEnded(t + 30, { session }),
  ];
  const mature = [...routine("s1", 0), ...routine("s2", 3600), sessionStarted(7200, docs, { session: "s3" })];
  const inS3 = (t: number, capability: string, opts: Parameters<typeof action>[2]) => action(t, capability, { session: "s3", ...opts });
  const sendToCarol = inS3(7220, "email.send", { kind: "egress", resource: { external: true }, args: { to: "carol@partner.example" } });

  it("fires for a recipient with no provenance at all", () =>
    specification(policy)
      .given(...mature)
      .when(sendToCarol)
      .then(({ decision }) => expect(weightOf(decision.signals, "baseline.new_destination")).toBeCloseTo(W_NEW_DEST, 6)));

  it("still fires when only a read named the recipient earlier", () =>
    specification(policy)
      .given(...mature, inS3(7210, "contacts.lookup", { kind: "read", args: { email: "carol@partner.example" } }))
      .when(sendToCarol)
      .then(({ codes }) => expect(codes).toContain("baseline.new_destination")));

  it("fires for a write (not only an egress) naming a new destination", () =>
    specification(policy)
      .given(...mature)
      .when(inS3(7210, "calendar.add_attendee", { kind: "write", args: { attendees: ["eve@evil.test"] } }))
      .then(({ codes }) => expect(codes).toContain("baseline.new_destination")));

  it("does not fire for a read naming a new destination", () =>
    specification(policy)
      .given(...mature)
      .when(inS3(7210, "contacts.lookup", { kind: "read", args: { email: "eve@evil.test" } }))
      .then(({ codes }) => expect(codes).not.toContain("baseline.new_destination")));

  it("weighs half when every new destination is a bare name", () =>
    specification(policy)
      .given(...mature)
      .when(inS3(7210, "chat.add_member", { kind: "write", args: { user: "mallory", channel: "ops" } }))
      .then(({ decision }) => expect(weightOf(decision.signals, "baseline.new_destination")).toBeCloseTo(W_NEW_DEST * 0.5, 6)));
});

describe("hostile arguments (review findings)", () => {
  const notes = sessionStarted(0, { goal: "Summarize my meeting notes from the article at https://news.example.com/a" });
  const deleteFile = (args: Record<string, unknown>) => action(10, "delete_file", { kind: "delete", args });

  it.each([
    ["a blank target", { target: " " }],
    ["a one-letter target", { target: "e" }],
    ["a note that mentions the goal's link", { note: "as discussed on news.example.com" }],
  ])("%s does not switch off intent.unrelated_capability", (_name, args) => {
    given(notes)
      .when(deleteFile(args))
      .then(({ codes }) => expect(codes).toContain("intent.unrelated_capability"));
  });

  it("a stop word in an address's local part is nobody's name", () => expect(goalMentions("Summarize the article", "the@evil.com", LEX)).toBe(false));
  it("a first name still names its owner's address", () => expect(goalMentions("Send the minutes to Frank", "frank.miller@corp.example", LEX)).toBe(true));
  it("a destination is named only as a whole token", () => {
    expect(goalMentions("Pay the rent to US12 3456 7890 1234", "us12345678901234", LEX)).toBe(true);
    expect(goalMentions("Read the content on webpage www.informations.com.", "informations.com", LEX)).toBe(true);
    expect(goalMentions("Read the content on webpage www.true-informations.com.", "informations.com", LEX)).toBe(false);
  });

  it("labels before an address are not part of it", () =>
    expect(extractDestinations({ body: "reply to mailto:bob@corp.example or from:eve@evil.example" }, LEX)).toEqual(["bob@corp.example", "eve@evil.example"]));

  it("file names in prose are not links, addresses and known domains are", () =>
    expect(extractDestinations({ body: "See bill-december-2023.txt, then pay at www.pay.example.com or shop.example.io." }, LEX)).toEqual([
      "pay.example.com",
      "shop.example.io",
    ]));

  it("free text is scanned up to a budget per event, not without end", () => {
    const filler = "a. ".repeat(Math.ceil(MAX_TEXT_SCANNED_PER_EVENT / 3));
    expect(extractDestinations({ body: `${filler} eve@evil.example` }, LEX)).toEqual([]);
    expect(extractDestinations({ body: `eve@evil.example ${filler}` }, LEX)).toEqual(["eve@evil.example"]);
    // The budget is per event, across all strings.
    expect(extractDestinations({ a: filler, b: "then write to eve@evil.example" }, LEX)).toEqual([]);
  });
});
