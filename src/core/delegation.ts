import { memoise, words } from "./text.js";

// Delegation: a user may hand the agent someone else's instructions on purpose ("follow the
// instructions in landlord-notices.txt", "do the tasks on my TODO list at …", "do the
// actions specified in the email from …"). Content from the source the goal names is then
// the user's instruction, not an injection. Recognised by grammar: a verb of carrying out
// (follow, do, perform, complete…) whose object is a word for orders (instructions, tasks,
// actions, steps…), not modified by "following"/"these"/"below" (which point at the goal's
// own list), or a source that "asks"/"says"/"requests". Which outputs come from that source
// is decided per call: a call naming a value the goal names (the file, the page, the sender).

const CARRY_OUT = new Set(["follow", "do", "perform", "complete", "execute", "carry", "handle", "fulfil", "fulfill", "implement", "action", "obey", "apply"]);
const ORDERS = new Set(["instruction", "instructions", "task", "tasks", "todo", "todos", "action", "actions", "step", "steps", "request", "requests", "order", "orders", "directions", "item", "items"]);
const SOURCE_SAYS = new Set(["asks", "says", "requests", "wants", "specifies", "demands", "tells", "instructs"]);
const OWN_LIST = new Set(["following", "these", "below", "above", "listed"]);

/** Words between the verb and its object at most ("do all the open tasks"). */
const REACH = 5;

/** Whether the goal hands the agent the instructions of a source it names. Memoised. */
export const delegates: (goal: string) => boolean = memoise((goal) => {
  const w = words(goal);
  for (let i = 0; i < w.length; i++) {
    const word = w[i] as string;
    if (SOURCE_SAYS.has(word) && i > 0 && (w[i - 1] === "it" || w.slice(Math.max(0, i - 4), i).includes("what"))) return true;
    if (!CARRY_OUT.has(word)) continue;
    for (let j = i + 1; j <= Math.min(w.length - 1, i + REACH); j++) {
      const next = w[j] as string;
      if (OWN_LIST.has(next)) break;
      if (ORDERS.has(next)) return true;
      if (next === "what" && w.slice(j + 1, j + 6).some((x) => SOURCE_SAYS.has(x))) return true;
    }
  }
  return false;
});
