import type { Baseline } from "./baseline.js";
import type { DestinationWords } from "./reading/destinations.js";
import { goalMentions, isAddress } from "./reading/destinations.js";
import type { SessionState } from "./session-state.js";
import { SEEN, seenKey } from "./session-state.js";

// Value provenance: where a value a call uses (a recipient, channel, link, account, a name,
// a password) could have come from, using only what a live deployment sees. A
// prompt-injected agent acts for someone else, and the someone else's values are the one
// thing it cannot take from its principal: they are not in the goal, not in the principal's
// own data, not among the places this principal's agents have sent to before. They reach
// the agent inside third-party text, often inside an order the user never gave.
//
// Explained: the goal names it; a source the goal delegated to carries it; an earlier call
// of the session that ran named it; a tool output carried it as a whole structured field
// (a bill's IBAN, a transaction's recipient, a channel's members: the user's data) or in
// trusted output; the principal used it before (baselines only). Not explained: it came
// only inside an order in third-party output ("instructed"), only in the text of an output
// that gave such orders ("suspect"), only inside third-party prose ("third_party"), or from
// nowhere (undefined).

export type Provenance = "goal" | "delegated" | "session" | "data" | "history" | "instructed" | "suspect" | "third_party";

/** Provenances that explain a value. */
export const explains = (p: Provenance | undefined): boolean => p !== undefined && p !== "instructed" && p !== "suspect" && p !== "third_party";

const bitsOf = (session: SessionState, value: string): number => {
  const key = seenKey(value);
  return session.seen !== undefined && Object.hasOwn(session.seen, key) ? (session.seen[key] as number) : 0;
};

/**
 * Whether the user vouches for a value: the goal names it, or trusted output (the user's
 * own account, as the catalog says) carried it and no order named it.
 */
export function vouchedByUser(session: SessionState, value: string, lex: DestinationWords): boolean {
  if (session.intent !== undefined && goalMentions(session.intent.goal, value, lex)) return true;
  const bits = bitsOf(session, value);
  return (bits & SEEN.trusted) !== 0 && (bits & SEEN.instructed) === 0;
}

/**
 * scoring.outputs.goalRecords: whether a value came as a field of an output the goal pointed
 * at (a read that named one of the goal's values: the meeting, the file the user named) and
 * no order named it — an identifier of a record the user asked about.
 */
export function onGoalRecord(session: SessionState, value: string): boolean {
  const bits = bitsOf(session, value);
  return (bits & SEEN.goalRecord) !== 0 && (bits & SEEN.instructed) === 0;
}

/**
 * Whether an ordered value is the order's alone, the evidence a different model cannot
 * produce honestly: not a bare name (one word that is no address: a user, a channel, an id,
 * which an honest agent copies from the user's own channels, contacts or events), that an
 * order in the session named (not inferred after orders overflowed), and that no record of
 * the user's data listed as a field. An address or a text of several words (a command line,
 * a message the order dictated) is the order's own.
 */
export function orderedAlone(session: SessionState, value: string): boolean {
  const bits = bitsOf(session, value);
  // One word: no white space between two other characters (leading or trailing space is no second word).
  const bareName = !isAddress(value) && !/\S\s+\S/.test(value);
  return !bareName && (bits & SEEN.instructed) !== 0 && (bits & SEEN.field) === 0;
}

/**
 * Where a value could have come from. `mentioned` is true for one written inside free text
 * (a link in a message body) rather than named as where the call goes: an address the
 * session read earlier, or prose it read, explains a mention (the agent summarises what it
 * read) but not a destination (reading a page does not vouch for sending to it).
 */
export function provenanceOf(
  value: string,
  session: SessionState,
  principal: Baseline | undefined,
  lex: DestinationWords,
  mentioned = false,
): Provenance | undefined {
  if (session.intent !== undefined && goalMentions(session.intent.goal, value, lex)) return "goal";
  const bits = bitsOf(session, value);
  // Once an order named a value, only trusted output, the goal, the user's delegation or an
  // earlier call of the session explain it: an untrusted record listing it elsewhere (a
  // review's "reviewer: DE89…") is as much the attacker's as the order.
  const ordered = (bits & SEEN.instructed) !== 0;
  if ((bits & SEEN.trusted) !== 0 || (!ordered && (bits & SEEN.field) !== 0)) return "data";
  if (session.destinations?.includes(value)) return "session";
  if ((bits & SEEN.delegated) !== 0) return "delegated";
  if (!ordered && (bits & SEEN.pointed) !== 0) return "data";
  if (mentioned && session.readAddresses?.includes(value)) return "session";
  if (!ordered && mentioned && (bits & SEEN.prose) !== 0) return "data";
  if (ordered) return "instructed";
  if (principal !== undefined && Object.hasOwn(principal.destinations, value)) return "history";
  if ((bits & SEEN.suspect) !== 0) return "suspect";
  if ((bits & SEEN.prose) !== 0) return "third_party";
  // Orders named more values than the session could keep: an unexplained value may be one of them.
  return session.ordersOverflowed === true ? "instructed" : undefined;
}
