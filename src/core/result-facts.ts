import type { ActionResultEvent, OutputTrust } from "../protocol/index.js";
import type { Instruction, ResultFacts } from "./event-facts.js";
import { scopeTerms } from "./scope.js";
import type { Lexicon } from "./reading/lexicon.js";
import { goalMentions, isAddress } from "./reading/destinations.js";
import type { Directive } from "./reading/output-scan.js";
import type { ScanOptions } from "./reading/output-scan.js";
import { scanOutput } from "./reading/output-scan.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { SessionState } from "./session-state.js";
import { overlap } from "./reading/text.js";

// What an `action.result` tells the session (contract v1.1): which call it answers, how far
// its content can be trusted, the values it carries and how (whole fields or prose), and
// the orders in it that the user did not give. Trust comes from the event's `source` when
// the gateway labels it, else from the catalog's `outputTrust` for the tool, else
// "unknown", which is read like third-party content. Trusted output (the user's own
// account, a system's own records) vouches for every value in it and carries no orders.

const MAX_TERMS = 32;

/**
 * Whether a directive gives an order the goal does not: it names a tool; or it is about
 * nothing the goal mentions; or it involves an address the goal does not name while asking
 * for a change (a verb of writing, sending, deleting…) or in a source the goal did not point
 * at. A request to look at something the goal is about, in the source the goal sent the
 * agent to ("visit the website for details: …" in the channel whose posted websites the
 * user wants summarised), is not.
 */
function isForeign(
  d: Directive,
  goal: string,
  goalTerms: ReadonlySet<string>,
  terms: ReadonlySet<string>,
  pointed: boolean,
  lex: Lexicon,
  pointedAt: boolean,
): boolean {
  if (d.tools.length > 0) return true;
  if (overlap(terms, goalTerms).length === 0) return terms.size > 0 || d.values.length > 0;
  const changes = d.kinds.some((k) => k !== "read");
  // A source the goal wrote out by its address ("visit www.a.example") is where the user
  // sent the agent, not on to whatever that page says to look at next.
  return d.values.some((v) => isAddress(v) && !goalMentions(goal, v, lex) && (changes || !pointed || pointedAt));
}

/** Scanner options by policy: built once per policy, not once per output. */
const optionsByPolicy = new WeakMap<CompiledPolicy, ScanOptions>();

/** How outputs are read under a policy (the scanner's options). */
export function scanOptions(policy: CompiledPolicy): ScanOptions {
  let options = optionsByPolicy.get(policy);
  if (options === undefined) {
    options = buildScanOptions(policy);
    optionsByPolicy.set(policy, options);
  }
  return options;
}

function buildScanOptions(policy: CompiledPolicy): ScanOptions {
  const lex = policy.lexicon;
  return {
    maxChars: policy.outputs.maxScannedChars,
    maxItems: policy.outputs.maxValues,
    fieldWords: policy.outputs.fieldWords,
    orderValues: policy.outputs.orderValues,
    keyWords: policy.outputs.keyWords,
    keyChars: policy.outputs.keyChars,
    valueKeys: policy.outputs.valueKeys,
    inlinePassage: policy.outputs.inlinePassage,
    addressLists: policy.outputs.addressLists,
    literalPassages: policy.outputs.literalPassages,
    toolObjects: policy.outputs.toolObjects,
    verbKinds: lex.kindOfWord,
    grammar: lex.grammar,
    notValues: lex.notValues,
    words: lex,
    isTool: (t) => policy.tools.has(t),
  };
}

export function resultFacts(policy: CompiledPolicy, session: SessionState, event: ActionResultEvent): ResultFacts {
  const call = session.recent.find((a) => a.eventId === event.actionEventId);
  const capability = call?.capability;
  const tool = capability === undefined ? undefined : policy.tools.get(capability);
  const trust: OutputTrust = event.source?.trust ?? tool?.outputTrust ?? "unknown";
  const text = event.output.text ?? "";
  const goal = session.intent?.goal ?? "";
  const pointed = call?.namesGoalValue !== undefined;
  /** The goal wrote out this source's address ("visit www.a.example"): it sent the agent there, not on to what the page says to look at. */
  const pointedAt = call?.namesGoalValue === "address";
  const lex = policy.lexicon;
  const delegated = pointed && lex.delegates(goal);
  const none: ResultFacts = { capability, trust, delegated, pointed, fields: [], tainted: [], prose: [], instructions: [], overflow: false };
  if (text === "") return none;
  const scan = scanOutput(text, scanOptions(policy));
  if (delegated) {
    const delegatedTerms = [...new Set(scan.directives.flatMap((d) => [...lex.objectTerms(d.words.join(" "))]))].slice(0, MAX_TERMS);
    return { ...none, fields: scan.fields.map((f) => f.value), prose: [...scan.prose, ...scan.directives.flatMap((d) => d.values)], delegatedTerms };
  }
  const instructions: Instruction[] = [];
  const extraInstructed: string[] = [];
  /** Lines of the passages foreign orders stand in: their fields vouch for nothing. */
  const taintedBlocks: (readonly [number, number])[] = [];
  let overflow = false;
  if (trust !== "trusted") {
    const goalTerms = scopeTerms(policy, session);
    for (const d of scan.directives) {
      const terms = lex.objectTerms(d.words.join(" "));
      if (!isForeign(d, goal, goalTerms, terms, pointed, lex, pointedAt && policy.outputs.goalAddresses)) {
        // An order in line with the goal, in a source the goal did not point at, still must
        // not choose the values of a change (a review that says "book the Harbour Inn").
        if (!pointed && d.kinds.some((k) => k !== "read")) {
          extraInstructed.push(...d.values.filter((v) => !goalMentions(goal, v, lex)));
          overflow ||= d.overflow;
        }
        continue;
      }
      overflow ||= d.overflow;
      taintedBlocks.push(d.block);
      instructions.push({ terms: [...terms].slice(0, MAX_TERMS), kinds: d.kinds, tools: d.tools, values: [...new Set([...d.values, ...d.attached])] });
    }
  }
  // An order's values are its own, whatever else the output says: not the user's data
  // because the same output lists them, nor because the passage around the order lays them
  // out as a record ("Send the money to my new account.\nIBAN: …"), nor because the file
  // the goal names says them again in prose.
  const instructed = new Set([...instructions.flatMap((i) => i.values), ...extraInstructed]);
  const inTainted = (line: number) => taintedBlocks.some(([a, b]) => line >= a && line <= b);
  const fields: string[] = [];
  const tainted: string[] = [];
  for (const f of scan.fields) {
    if (instructed.has(f.value)) continue;
    (inTainted(f.line) ? tainted : fields).push(f.value);
  }
  const prose = [...scan.prose, ...scan.directives.flatMap((d) => d.values)].filter((v) => !instructed.has(v));
  // One literal of all its fields, in the order of `none` (a spread of `none` adding `instructed` grew it out of line).
  return {
    capability,
    trust,
    delegated,
    // A source that gives orders of its own is not what the user sent the agent to read.
    pointed: pointed && instructions.length === 0,
    ...(pointed ? { lookedUp: true } : {}),
    fields: [...new Set(fields)],
    tainted: [...new Set(tainted)],
    prose: [...new Set(prose)],
    instructions,
    overflow,
    instructed: [...instructed],
  };
}
