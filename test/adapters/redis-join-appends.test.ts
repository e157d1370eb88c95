import { describe, expect, it } from "vitest";
import { joinAppends } from "../../src/adapters/redis/io.js";
import type { Op, Write } from "../../src/adapters/redis/io.js";

// A batch's appends to one list go in one RPUSH (and one LTRIM): the list ends the same as
// with one RPUSH and LTRIM per value.

const push = (key: string, value: string, keep = 3, ex?: number): Op => ({ c: "rpush", key, value, keep, ...(ex === undefined ? {} : { ex }) });

/** A list after the ops, as Redis applies them one by one. */
function apply(ops: readonly (Op & { more?: readonly string[] })[]): Map<string, string[]> {
  const lists = new Map<string, string[]>();
  for (const op of ops) {
    if (op.c !== "rpush") continue;
    const list = [...(lists.get(op.key) ?? []), op.value, ...(op.more ?? [])];
    lists.set(op.key, list.slice(-op.keep));
  }
  return lists;
}

describe("joinAppends", () => {
  it("joins each list's appends into its first, in order, keeping other ops where they were", () => {
    const writes: Write[] = [
      { key: "a", ops: [push("a", "1")] },
      { key: "h", ops: [{ c: "hset", key: "h", fields: { x: "1" } }] },
      { key: "b", ops: [push("b", "x")] },
      { key: "a", ops: [push("a", "2"), push("a", "3")] },
      { key: "a", ops: [push("a", "4")] },
    ];
    const joined = joinAppends(writes);
    expect(joined).toEqual([{ ...push("a", "1"), more: ["2", "3", "4"] }, { c: "hset", key: "h", fields: { x: "1" } }, push("b", "x")]);
    expect(apply(joined)).toEqual(apply(writes.flatMap((w) => w.ops)));
    expect(apply(joined).get("a")).toEqual(["2", "3", "4"]);
  });

  it("does not join appends with another cap or expiry, nor reorder a list's values", () => {
    const ops = [push("a", "1", 3), push("a", "2", 5), push("a", "3", 3), push("a", "4", 5, 60)];
    const joined = joinAppends([{ key: "a", ops }]);
    expect(joined).toEqual(ops);
    expect(apply(joined)).toEqual(apply(ops));
  });

  it("leaves lone appends and other ops as they are", () => {
    const ops: Op[] = [push("a", "1"), { c: "set", key: "s", value: "v", ex: 5 }, push("b", "2")];
    expect(joinAppends([{ key: "x", ops }])).toEqual(ops);
  });
});
