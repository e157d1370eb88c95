// Many small sessions, for the memory tests: each starts with a declared intent and takes
// one action inside it (no command), so it stays active. Agents and principals repeat, as
// they would in a fleet.

/** Session `i`'s two events (session.started, one in-scope action). */
export function smallSession(i: number, tag: string): { key: string; value: string }[] {
  const sessionId = `${tag}-${i}`;
  const base = { sessionId, agent: { id: `mail-agent-${i % 50}` }, principal: { id: `user-${i % 1000}` } };
  const started = {
    ...base,
    eventId: `${sessionId}#0`,
    type: "session.started",
    time: "2026-11-28T09:00:00Z",
    intent: { goal: "Read my mail and reply to Frank", capabilities: ["mail.*"] },
    grants: ["mail.read", "mail.send"],
    context: { ip: "10.1.0.5", device: { compliant: true }, network: "corporate" },
  };
  const action = {
    ...base,
    eventId: `${sessionId}#1`,
    type: "action",
    time: "2026-11-28T09:00:40Z",
    action: { capability: "mail.read", kind: "read" },
    resource: { type: "mail", id: `mail-${i}`, classification: "internal" },
    args: {},
  };
  return [started, action].map((e) => ({ key: sessionId, value: JSON.stringify(e) }));
}
