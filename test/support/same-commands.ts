import { expect } from "vitest";
import type { Command } from "../../src/protocol/index.js";

/**
 * The same command set as a reference run: every id, none extra, each with the same content
 * (a repeat of one id is allowed: consumers de-duplicate). The reference must hold at least
 * `atLeast` commands (by default more than a thousand: the soak and kill runs), so an empty
 * comparison never passes.
 */
export function expectSameCommands(got: readonly Command[], want: readonly Command[], atLeast = 1001): void {
  const byId = new Map(want.map((c) => [c.commandId, c]));
  expect(byId.size).toBeGreaterThanOrEqual(atLeast);
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
