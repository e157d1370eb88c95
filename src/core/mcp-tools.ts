import type { ListedTool } from "../protocol/index.js";
import { kept } from "./limits.js";
import type { KnownTool, ListingFacts, ToolFinding, ToolFindingKind } from "./event-facts.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import { scanOptions } from "./result-facts.js";
import type { NamedTool, TextReader, TextReading } from "./tool-texts.js";
import { readToolText } from "./tool-texts.js";
import { intern } from "./reading/text.js";

// MCP's own threats, read from the tool definitions a gateway saw listed (`tools.listed`,
// contract v1.3), against what the session was listed before. Three findings, each raised
// once per tool:
//   - poisoning: a text of the tool (description, parameter description, title) gives the
//     agent orders no honest description gives (tool-texts.ts);
//   - changed: the tool's digest differs from the one the session first saw for the same
//     name and server (a "rug pull");
//   - shadowing: an order or obligation in its texts names a tool of another server listed
//     in the session (it tells the agent what to do with someone else's tool), or it takes
//     the name of a tool another server listed first.
// What follows a finding is the policy's (`mcp`, scorers/tools.ts). Pure; the session keeps
// per tool only its name, server, first digest and which findings it raised, at most
// MAX_KNOWN_TOOLS tools and MAX_KNOWN_CHARS characters (a tool beyond them is read afresh
// at each listing, and its changes go unseen).

/** Tools a session remembers at most, and characters of their names, servers and digests in all (a hostile server's 256-character names fill this first). */
export const MAX_KNOWN_TOOLS = 512;
export const MAX_KNOWN_CHARS = 32_768;
const sizeOf = (k: Pick<KnownTool, "name" | "server" | "digest">): number => k.name.length + k.server.length + k.digest.length;

const FLAG: Readonly<Record<ToolFindingKind, number>> = { poisoning: 1, changed: 2, shadowing: 4 };
/** Characters of a name in a finding's message. */
const SHOWN = 64;
const show = (s: string): string => (s.length > SHOWN ? `${s.slice(0, SHOWN)}…` : s);
const keyOf = (name: string, server: string): string => `${server}\u0000${name}`;

/** The name a tool's own server gave it: a gateway that fronts several servers prefixes it (`files__read_file`). */
export function ownName(name: string, server: string): string {
  if (!name.startsWith(server) || name.length === server.length) return name;
  let i = server.length;
  while (i < name.length && "_-.:/".includes(name[i] as string)) i++;
  return i === server.length || i === name.length ? name : name.slice(i);
}

/** A name is told apart from a word when it is an identifier (`send_email`, `get-sum`, `readFile`); a plain word ("search") only when quoted. */
const distinctive = (name: string): boolean => /[_\-.]/.test(name) || /[a-z][A-Z]/.test(name);

/** The other servers' tools as texts may name them (listed and own names, lower case), for a tool of `server`. */
function otherTools(all: readonly NamedTool[], server: string): TextReader["otherTool"] {
  const by = new Map<string, NamedTool & { distinctive: boolean }>();
  let longest = 0;
  for (const t of all) {
    if (t.server === server) continue;
    for (const n of new Set([t.name, ownName(t.name, t.server)])) {
      if (by.has(n.toLowerCase())) continue;
      by.set(n.toLowerCase(), { ...t, distinctive: distinctive(n) });
      longest = Math.max(longest, n.length);
    }
  }
  return (token, quoted) => {
    const whole = by.get(token);
    if (whole !== undefined && (whole.distinctive || quoted)) return whole;
    // A client's own prefix before it (`mcp_tool_send_email`): only for names told apart from
    // words, and only the tails no longer than a name (a long hostile token costs its length once).
    for (let i = Math.max(0, token.length - longest - 1); i < token.length; i++) {
      if (!"_-.:/".includes(token[i] as string)) continue;
      const tail = by.get(token.slice(i + 1));
      if (tail?.distinctive) return tail;
    }
    return undefined;
  };
}

/** The texts an agent reads of a tool, each with where it stands. */
function textsOf(t: ListedTool): [string, string][] {
  const out: [string, string][] = [];
  if (t.description) out.push(["description", t.description]);
  if (t.title) out.push(["title", t.title]);
  if (t.annotations?.title) out.push(["annotation title", t.annotations.title]);
  for (const p of t.parameters ?? []) out.push([`description of parameter ${show(p.name)}`, p.description]);
  return out;
}

/** What the tool's texts do, each with where it stands: the texts are read in order until both findings are made (or were before). */
function readTool(t: ListedTool, reader: TextReader, wanted: { poisoning: boolean; shadowing: boolean }): (TextReading & { where: string })[] {
  const out: (TextReading & { where: string })[] = [];
  let { poisoning, shadowing } = wanted;
  for (const [where, text] of textsOf(t)) {
    if (!poisoning && !shadowing) break;
    const r = readToolText(text, reader, { poisoning, shadowing });
    if (r === undefined) continue;
    out.push({ ...r, where });
    if (r.concealment || r.place !== undefined) poisoning = false;
    if (r.named !== undefined) shadowing = false;
  }
  return out;
}

/**
 * What a listing tells the session: its findings and the tools known from now on. `known`
 * is the session's memory before it (returned as is when nothing is new).
 */
export function readListing(policy: CompiledPolicy, known: readonly KnownTool[], tools: readonly ListedTool[]): ListingFacts {
  const index = new Map<string, number>();
  known.forEach((k, i) => index.set(keyOf(k.name, k.server), i));
  // Which server first listed each name, and every tool of the session and this listing.
  const firstServer = new Map<string, string>();
  const all: NamedTool[] = [];
  for (const t of [...known, ...tools]) {
    if (!firstServer.has(t.name)) firstServer.set(t.name, t.server);
    all.push({ name: t.name, server: t.server });
  }
  const scan = scanOptions(policy);
  const binding = new Map<string, boolean>();
  const readers = new Map<string, TextReader>();
  const readerFor = (server: string): TextReader => {
    let r = readers.get(server);
    if (r === undefined) readers.set(server, (r = { lexicon: policy.lexicon, scan, otherTool: otherTools(all, server), binding }));
    return r;
  };
  let next: KnownTool[] | undefined;
  let size = known.reduce((n, k) => n + sizeOf(k), 0);
  const findings: ToolFinding[] = [];
  const seen = new Set<string>();
  for (const t of tools) {
    const key = keyOf(t.name, t.server);
    if (seen.has(key)) continue;
    seen.add(key);
    const at = index.get(key);
    const before = at === undefined ? undefined : ((next ?? known)[at] as KnownTool);
    const digest = kept(t.digest);
    let flags = before?.flags ?? 0;
    const label = `tool ${show(t.name)} of server ${show(t.server)}`;
    const raise = (kind: ToolFindingKind, message: string) => {
      if ((flags & FLAG[kind]) !== 0) return;
      flags |= FLAG[kind];
      findings.push({ kind, tool: t.name, server: t.server, message: `${label}${message}` });
    };
    if (before !== undefined && before.digest !== digest) raise("changed", ": its definition changed after the session first saw it listed");
    const first = firstServer.get(t.name);
    if (first !== undefined && first !== t.server) raise("shadowing", ` takes the name of a tool of server ${show(first)}`);
    // A definition already read (the same digest) says nothing new.
    if (before === undefined || before.digest !== digest) {
      const wanted = { poisoning: (flags & FLAG.poisoning) === 0, shadowing: (flags & FLAG.shadowing) === 0 };
      for (const r of readTool(t, readerFor(t.server), wanted)) {
        if (r.concealment) raise("poisoning", `: its ${r.where} tells the agent to keep something from the user`);
        else if (r.place !== undefined) raise("poisoning", `: its ${r.where} orders the agent about ${show(r.place)}, outside the call`);
        if (r.named !== undefined)
          raise("shadowing", `: its ${r.where} tells the agent what to do with ${show(r.named.name)} of server ${show(r.named.server)}`);
      }
    }
    if (before !== undefined) {
      if (flags !== (before.flags ?? 0)) {
        next ??= [...known];
        next[at as number] = { ...before, flags };
      }
    } else if ((next ?? known).length < MAX_KNOWN_TOOLS && size + sizeOf({ name: t.name, server: t.server, digest }) <= MAX_KNOWN_CHARS) {
      size += sizeOf({ name: t.name, server: t.server, digest });
      next ??= [...known];
      index.set(key, next.length);
      // Many sessions list the same servers: one copy of each name, server and digest.
      const tool = { name: intern(t.name), server: intern(t.server), digest: intern(digest) };
      next.push(flags === 0 ? tool : { ...tool, flags });
    }
  }
  return { known: next ?? known, findings };
}
