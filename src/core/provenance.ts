import type { Baseline } from "./baseline.js";
import { goalMentions } from "./destinations.js";
import type { SessionState } from "./session-state.js";

// Argument provenance: where a destination named in a call (recipient, channel, link,
// account) could have come from, using only what a live deployment sees. A prompt-injected
// agent acts for someone else, and the someone else's address is the one thing it cannot
// take from its principal: it is not in the goal, not named earlier in the session, and not
// among the places this principal's agents have sent to before.

export type Provenance = "goal" | "session" | "history";

export function provenanceOf(destination: string, session: SessionState, principal: Baseline): Provenance | undefined {
  if (session.intent !== undefined && goalMentions(session.intent.goal, destination)) return "goal";
  if (session.destinations?.includes(destination)) return "session";
  if (Object.hasOwn(principal.destinations, destination)) return "history";
  return undefined;
}
