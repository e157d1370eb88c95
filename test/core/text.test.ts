import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { lowerCase, overlap, singleSpaced, stem, words } from "../../src/core/reading/text.js";

// The lexical helpers scope inference rests on: words() splits identifiers and prose, and
// the default policy's lexicon: tokens() drops stop words and stems, objectTerms() and
// nounTerms() keep what a text is about.

const { tokens, objectTerms, nounTerms } = compilePolicy().lexicon;

describe("words", () => {
  it("splits camelCase and PascalCase identifiers", () => {
    expect(words("getUserInfo")).toEqual(["get", "user", "info"]);
    expect(words("GmailReadEmail")).toEqual(["gmail", "read", "email"]);
  });

  it("splits snake_case, kebab-case and dotted names", () => {
    expect(words("send_money")).toEqual(["send", "money"]);
    expect(words("list-open-tickets")).toEqual(["list", "open", "tickets"]);
    expect(words("expense.approve")).toEqual(["expense", "approve"]);
  });

  it("splits a run of capitals from the word that follows it", () => {
    expect(words("EpicFHIRManageAppointments")).toEqual(["epic", "fhir", "manage", "appointments"]);
    expect(words("HTTPServer")).toEqual(["http", "server"]);
    expect(words("exportCSV")).toEqual(["export", "csv"]);
  });

  it("keeps digits inside words and splits before a capital that follows one", () => expect(words("v2Api")).toEqual(["v2", "api"]));

  it("lower-cases prose, drops punctuation and one-letter words", () =>
    expect(words("Pay a bill, then I check: OK?")).toEqual(["pay", "bill", "then", "check", "ok"]));

  it("an empty or punctuation-only text has no words", () => {
    expect(words("")).toEqual([]);
    expect(words(" ._-! ")).toEqual([]);
  });
});

describe("tokens", () => {
  it("drops English stop words and the politeness of requests", () =>
    expect([...tokens("Could you please send the report to my team, thanks")]).toEqual(["send", "report", "team"]));

  it("stems plurals to their singular", () => {
    expect([...tokens("reports messages invoices")]).toEqual([stem("report"), stem("message"), stem("invoice")]);
    expect(stem("reports")).toBe("report");
  });

  it("gives inflections of one verb the same token", () => expect([...tokens("approved approving approves approve")]).toEqual([stem("approve")]));

  it("a text of stop words only has no tokens", () => expect(tokens("the of and my it please hello").size).toBe(0));

  it("tokens are memoised", () => expect(tokens("Summarise the channel messages")).toBe(tokens("Summarise the channel messages")));
});

describe("overlap", () => {
  it("lists the tokens two texts share, in the first text's order", () =>
    expect(overlap(tokens("File the expense reports"), tokens("expense.submit: Submit an expense report"))).toEqual(["expens", "report"]));

  it("is empty when nothing is shared", () => expect(overlap(tokens("Book a flight"), tokens("read_channel_messages"))).toEqual([]));
});

describe("object and noun terms", () => {
  it("object terms drop read verbs and catalog prose", () => {
    expect([...objectTerms("Read the content on webpage www.example.com")]).not.toContain(stem("read"));
    expect([...objectTerms("Returns the current balance of the given account")]).toEqual([stem("balance"), stem("account")]);
  });

  it("object terms keep verbs of change", () =>
    expect([...objectTerms("File my expense report and get it approved")]).toEqual(["file", "expens", "report", "approv"]));

  it("noun terms drop every verb but keep words that are nouns too", () => {
    const terms = nounTerms("Send an email message to update the password");
    expect(terms).not.toContain("send");
    expect(terms).not.toContain(stem("update"));
    expect([...terms]).toEqual(expect.arrayContaining(["email", stem("message"), stem("password")]));
  });

  it("object terms are computed once per text", () => {
    const goal = "Approve the pending invoices for the Berlin office";
    expect(objectTerms(goal)).toBe(objectTerms(goal));
  });
});

describe("lowerCase and singleSpaced", () => {
  it('equal toLowerCase() and replace(/\\s+/g, " ") on ASCII, Unicode and every kind of white space', () => {
    const samples = [
      "",
      "a",
      "A",
      "abc",
      "aBc",
      "ÄÖÜ straße",
      "İstanbul",
      "ΣΑΣ",
      "a b",
      "a  b",
      " a",
      "a ",
      "a\tb",
      "a\u00a0b",
      "a \u2028b",
      "\ufeff",
      "x\u3000\u3000y",
      "a\u0085b",
    ];
    for (const s of samples) {
      expect(lowerCase(s)).toBe(s.toLowerCase());
      expect(singleSpaced(s)).toBe(s.replace(/\s+/g, " "));
    }
  });
});
