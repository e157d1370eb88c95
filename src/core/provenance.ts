import type { Baseline } from "./baseline.js";
import { goalMentions } from "./destinations.js";
import type { SessionState } from "./session-state.js";

// Argument provenance: where a destination named in a call (recipient, channel, link,
// account) could have come from, using only what a live deployment sees. A prompt-injected
// agent acts for someone else, and the someone else's address is the one thing it cannot
// take from its principal: it is not in the goal, not named earlier in the session, and not
// among the places this principal's agents have sent to before.

export type Provenance = "goal" | "session" | "history";

/**
 * Where a destination could have come from. `mentioned` is true for one written inside free
 * text (a link in a message body) rather than named as where the call goes: an address the
 * session read earlier explains a mention (the agent summarises what it read) but not a
 * destination (reading a page does not vouch for sending to it).
 */
export function provenanceOf(destination: string, session: SessionState, principal: Baseline | undefined, mentioned = false): Provenance | undefined {
  if (session.intent !== undefined && goalMentions(session.intent.goal, destination)) return "goal";
  if (session.destinations?.includes(destination)) return "session";
  if (mentioned && session.readAddresses?.includes(destination)) return "session";
  if (principal !== undefined && Object.hasOwn(principal.destinations, destination)) return "history";
  return undefined;
}
