import { readdirSync, readFileSync } from "node:fs";

// Loads the wire-contract fixtures of test/fixtures/protocol/: events/, commands/ (valid) and
// extra/ (valid, with fields the contract does not name).

const root = new URL("../fixtures/protocol/", import.meta.url);

export interface Fixture {
  readonly name: string;
  readonly value: Record<string, unknown>;
}

function load(dir: string): Fixture[] {
  const url = new URL(`${dir}/`, root);
  return readdirSync(url)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, value: JSON.parse(readFileSync(new URL(f, url), "utf8")) as Record<string, unknown> }));
}

export const eventFixtures: readonly Fixture[] = load("events");
export const commandFixtures: readonly Fixture[] = load("commands");

/** The fixture `dir/file`; throws when it does not exist. */
export function fixture(name: string): Record<string, unknown> {
  const found = [...eventFixtures, ...commandFixtures, ...load("extra")].find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found.value;
}

export const extraEvent: Fixture = { name: "extra/event-with-unknown-fields.json", value: fixture("extra/event-with-unknown-fields.json") };
export const extraCommand: Fixture = { name: "extra/command-with-unknown-fields.json", value: fixture("extra/command-with-unknown-fields.json") };

/** A deep copy of `value` without the field at `path` (e.g. "agent.id", "reasons.0.message"). */
export function without(value: Record<string, unknown>, path: string): Record<string, unknown> {
  const copy = structuredClone(value);
  const keys = path.split(".");
  const last = keys.pop() ?? "";
  let node: Record<string, unknown> = copy;
  for (const k of keys) node = node[k] as Record<string, unknown>;
  delete node[last];
  return copy;
}
