// The live benchmark's workload: the public v2 traces (real sessions, tool outputs, some
// injected and drifting), replicated under fresh ids until there are enough events. Each
// replica gets its own principals and an agent per principal, and every session of one
// (principal, replica)
// goes to the same partition, so all state shared across sessions (an agent's or a
// principal's baseline) is touched by one partition in order: a sequential offline replay
// of the same events then decides exactly what the live processor decides.
// Event sizes stay between ~300 B and 2 KB: a longer tool output is cut (output.truncated).
import { readFileSync } from "node:fs";

const MAX_BYTES = 2048;

/** FNV-1a over a string, for a stable partition per group. */
function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function fit(event) {
  let line = JSON.stringify(event);
  if (line.length <= MAX_BYTES || event.type !== "action.result" || typeof event.output?.text !== "string") return line;
  const over = line.length - MAX_BYTES + 32;
  event.output = { ...event.output, text: event.output.text.slice(0, Math.max(0, event.output.text.length - over)), truncated: true };
  line = JSON.stringify(event);
  return line;
}

/**
 * `count` events (rounded up to whole replicas) as Kafka messages with an explicit
 * partition, in the order they are produced and replayed. `sharedAgents`: every replica
 * keeps the file's agent ids, so one agent serves principals on many partitions and its
 * baseline is written from all of them (bench/scale-out.mjs).
 */
export function workload(file, count, partitions, { sharedAgents = false } = {}) {
  const templates = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
  const messages = [];
  for (let r = 0; messages.length < count; r++) {
    for (const t of templates) {
      const e = structuredClone(t);
      const suffix = `~r${r}`;
      e.sessionId += suffix;
      e.eventId += suffix;
      if (e.actionEventId !== undefined) e.actionEventId += suffix;
      if (!sharedAgents) e.agent = { ...e.agent, id: `${e.agent.id}/${e.principal.id}${suffix}` };
      e.principal = { ...e.principal, id: `${e.principal.id}${suffix}` };
      const group = e.principal.id;
      messages.push({ key: e.sessionId, value: fit(e), partition: hash(group) % partitions });
    }
  }
  return messages;
}

/**
 * The same messages, each partition's sessions spread out: one event of every open session
 * a round (in order within each session), so consecutive events of a session are as far
 * apart in the partition as it has sessions, and almost never in one batch, as with many
 * sessions each making a call a second. State shared across sessions stays within its
 * partition, so an offline replay of this order still decides what the live run decides.
 */
export function interleave(messages) {
  const sessions = new Map();
  for (const m of messages) {
    const key = `${m.partition}\u0000${m.key}`;
    (sessions.get(key) ?? sessions.set(key, []).get(key)).push(m);
  }
  const queues = [...sessions.values()];
  const out = [];
  for (let round = 0; out.length < messages.length; round++) for (const q of queues) if (round < q.length) out.push(q[round]);
  return out;
}
