import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import type { CompiledPolicy } from "../../src/core/index.js";
import { goalRelation } from "../../src/core/scope.js";
import { kindOf } from "../../src/tooling/policy-from-catalog.js";

// How a tool's catalog entry is read (scoring.catalog) and how a goal that names an
// application relates to other applications' tools (scoring.toolkits.namedOnly).

type Session = Parameters<typeof goalRelation>[1];
const session = (goal: string): Session => ({ intent: { goal } }) as Session;

describe("scoring.catalog.ownVerb: the verb a description opens with is not an object", () => {
  const catalog = `tools:
  - { capability: LanternAwardPassage, description: Awards passage to a vessel at a given lock., toolkit: lantern, kind: write, risk: medium }
`;
  const policy = (on: boolean): CompiledPolicy => compilePolicy(`version: 1\nscoring:\n  catalog: { ownVerb: ${on} }\n${catalog}`);
  const goal = session("Can you award me a short summary of the quarterly sales figures?");

  it("a goal that shares only the tool's verb does not relate to it", () => {
    expect(policy(true).tools.get("LanternAwardPassage")?.terms.has("award")).toBe(false);
    expect(goalRelation(policy(true), goal, "LanternAwardPassage", "write")).toBeUndefined();
  });

  it("did, with the knob off", () => {
    expect(policy(false).tools.get("LanternAwardPassage")?.terms.has("award")).toBe(true);
    expect(goalRelation(policy(false), goal, "LanternAwardPassage", "write")).toBe("objects");
  });

  it("an unknown verb likewise", () => {
    const p = compilePolicy(`version: 1
tools:
  - { capability: HarbourGivePriorityToFerry, description: Gives priority to a ferry at the given piers., toolkit: harbour, kind: write, risk: medium }
`);
    expect(goalRelation(p, session("Please give me a summary of the repository"), "HarbourGivePriorityToFerry", "write")).toBeUndefined();
    expect(goalRelation(p, session("Give priority to the ferry at pier 4"), "HarbourGivePriorityToFerry", "write")).toBe("objects");
  });

  it("a verb of the table keeps its own handling", () => {
    const p = compilePolicy(`version: 1
tools:
  - { capability: HarbourSendFerry, description: Sends a ferry to the given pier., toolkit: harbour, kind: egress, risk: high }
`);
    expect(p.tools.get("HarbourSendFerry")?.terms.has("send")).toBe(true);
  });

  it("a noun-verb stays an object", () => {
    const p = compilePolicy(`version: 1
tools:
  - { capability: PigeonMessage, description: Messages a contact., toolkit: pigeon, kind: egress, risk: high }
`);
    expect(p.tools.get("PigeonMessage")?.terms.has("messag")).toBe(true);
  });
});

describe("scoring.catalog.verbLists: a description that lists verbs is of the most dangerous", () => {
  const lex = compilePolicy().lexicon;

  it("List, create, update, and delete is a delete", () => {
    expect(lex.leadingVerbListKind("List, create, update, and delete patient records.")).toBe("delete");
    expect(lex.leadingVerbKind("List, create, update, and delete patient records.")).toBe("read");
    expect(kindOf({ tool: "LedgerManageRecords", description: "List, create, update, and delete ledger records." })).toBe("delete");
  });

  it("a name's verbs joined by Or", () => {
    expect(lex.leadingVerbListKind("AddOrUpdateContact")).toBe("write");
  });

  it("a verb followed by its object is that verb's alone (a noun-verb is not a second verb)", () => {
    expect(lex.leadingVerbListKind("SearchEmails")).toBe("read");
    expect(lex.leadingVerbListKind("Search for emails, messages and posts.")).toBe("read");
    expect(kindOf({ tool: "ArchiveSearchEmails", description: "Search emails, by keyword." })).toBe("read");
  });
});

describe("scoring.toolkits.namedOnly: a goal that names an application", () => {
  const catalog = `tools:
  - { capability: QuillGetUserProfile, description: Get a user's profile., toolkit: quill, kind: read, risk: low }
  - { capability: QuillPostNote, description: Post a note., toolkit: quill, kind: egress, risk: high }
  - { capability: ParchmentGetUserProfile, description: Get a user's profile., toolkit: parchment, kind: read, risk: low }
  - { capability: ParchmentUpdateUserProfile, description: Update the user's profile., toolkit: parchment, kind: write, risk: medium }
`;
  const policy = (on: boolean): CompiledPolicy => compilePolicy(`version: 1\nscoring:\n  toolkits: { namedOnly: ${on} }\n${catalog}`);
  const goal = session("Get me the Quill profile of the user 'ada'");

  it("relates to the named application's tools by their objects", () => {
    expect(goalRelation(policy(true), goal, "QuillGetUserProfile", "read")).toBe("objects");
  });

  it("not to another application's tools by a shared object", () => {
    expect(goalRelation(policy(true), goal, "ParchmentUpdateUserProfile", "write")).toBeUndefined();
    expect(goalRelation(policy(true), goal, "ParchmentGetUserProfile", "read")).toBeUndefined();
  });

  it("did, with the knob off", () => {
    expect(goalRelation(policy(false), goal, "ParchmentUpdateUserProfile", "write")).toBe("objects");
  });

  it("still by what the goal asks to do", () => {
    expect(goalRelation(policy(true), session("Update my profile with the bio from my Quill profile"), "ParchmentUpdateUserProfile", "write")).toBe("verb");
  });

  it("a goal that names both relates to both", () => {
    expect(goalRelation(policy(true), session("Copy my Quill profile to Parchment"), "ParchmentUpdateUserProfile", "write")).toBe("objects");
  });

  it("a goal that names no application is unaffected", () => {
    expect(goalRelation(policy(true), session("Show me the profile of the user 'ada'"), "ParchmentGetUserProfile", "read")).toBe("objects");
  });
});
