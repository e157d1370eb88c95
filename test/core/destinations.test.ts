import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import { embeddedDestinations } from "../../src/core/reading/destinations.js";

// Destinations inside free text: addresses, links and account numbers, each word tested on
// its own. A text with no "@", no "." and no account number's start is not cut into words
// at all; these cases hold the shortcut to what the word-by-word reading finds.

const lex = compilePolicy().lexicon;

describe("destinations in free text", () => {
  it("finds none in prose without an address, a link or an account number", () => {
    expect(embeddedDestinations("Please send the quarterly numbers to the finance team today", lex)).toEqual([]);
    expect(embeddedDestinations("de89 is lower case and no account", lex)).toEqual([]);
  });

  it("finds an account number written in groups, with no @ or . anywhere", () => {
    expect(embeddedDestinations("pay DE89 3704 0044 0532 0130 00 now", lex)).toEqual(["de89370400440532013000"]);
    expect(embeddedDestinations("pay DE89370400440532013000 now", lex)).toEqual(["de89370400440532013000"]);
  });

  it("finds addresses and links once an @ or a . is there", () => {
    expect(embeddedDestinations("write to mallory@evil.example about it", lex)).toEqual(["mallory@evil.example"]);
    expect(embeddedDestinations("see https://www.evil.example/pay for details", lex)).toEqual(["evil.example/pay"]);
    expect(embeddedDestinations("the file report.txt is attached", lex)).toEqual([]);
  });

  it("charges the budget for the text read, destinations or not", () => {
    const budget = { left: 100 };
    embeddedDestinations("no address in this sentence at all", lex, budget);
    expect(budget.left).toBe(100 - "no address in this sentence at all".length);
  });
});
