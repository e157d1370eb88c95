import { expect } from "vitest";
import type { Command } from "../../src/protocol/index.js";

/** The same command set as a reference run: every id, none extra, each with the same content (a repeat of one id is allowed: consumers de-duplicate). */
export function expectSameCommands(got: readonly Command[], want: readonly Command[]): void {
  const byId = new Map(want.map((c) => [c.commandId, c]));
  expect(byId.size).toBeGreaterThan(1000);
  const gotIds = new Set(got.map((c) => c.commandId));
  expect(
    [...byId.keys()].filter((id) => !gotIds.has(id)),
    "commands missing",
  ).toEqual([]);
  expect(
    [...gotIds].filter((id) => !byId.has(id)),
    "commands not in the uninterrupted run",
  ).toEqual([]);
  for (const c of got) expect(c).toEqual(byId.get(c.commandId));
}
