// The command a held call cites: the one its session's status names last, read from an
// enforcer's stream of applied records. A status and its command travel on two topics, so
// an answer may wait briefly for the command it cites. Shared by the AuthZEN door (its
// reason codes and `reason_user`) and the MCP gateway (the sentence in a refusal or a
// question to the person).
import type { Command } from "../protocol/index.js";
import type { Enforcer } from "../sdk/enforcer.js";

/** Restricting commands a held call may cite, per session (oldest forgotten first). */
const MAX_CITED = 100_000;
/** How long a held call waits for the command its session's status names. */
const CITE_WAIT_MS = 2000;

/** Listens to `enforcer` (before it starts) and answers each session's last command, or undefined if none comes within `waitMs`. */
export function citedCommands(enforcer: Pick<Enforcer, "on">, waitMs = CITE_WAIT_MS): (sessionId: string) => Promise<Command | undefined> {
  const lastIdOf = new Map<string, string>();
  const commands = new Map<string, Command>();
  const bounded = <V>(m: Map<string, V>, k: string, v: V) => {
    m.delete(k);
    m.set(k, v);
    if (m.size > MAX_CITED) m.delete(m.keys().next().value as string);
  };
  /** Calls waiting for their session's command, by session: a change wakes only its own session's. */
  const waiting = new Map<string, Set<() => void>>();
  enforcer.on("change", (sessionId, _view, cause) => {
    if ("commandId" in cause) bounded(commands, cause.commandId, cause);
    else if (cause.lastCommandId !== undefined) bounded(lastIdOf, sessionId, cause.lastCommandId);
    for (const w of [...(waiting.get(sessionId) ?? [])]) w();
  });
  return (sessionId) => {
    const known = () => {
      const id = lastIdOf.get(sessionId);
      return id === undefined ? undefined : commands.get(id);
    };
    const now = known();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const mine = waiting.get(sessionId) ?? new Set<() => void>();
      waiting.set(sessionId, mine);
      const done = (c: Command | undefined) => {
        mine.delete(check);
        if (mine.size === 0) waiting.delete(sessionId);
        clearTimeout(timer);
        resolve(c);
      };
      const check = () => {
        const c = known();
        if (c !== undefined) done(c);
      };
      const timer = setTimeout(() => done(undefined), waitMs);
      mine.add(check);
    });
  };
}
