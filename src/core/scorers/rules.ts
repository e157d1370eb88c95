import type { ScoreInput, Signal } from "./scorer.js";

// Policy rules: CEL conditions over `event`, `session` and `baseline` (docs/policy.md
// lists every variable). A rule that errors on an event counts as not matching and is
// reported in the decision's ruleErrors, so a typo never blocks traffic silently.

function eventVariable(input: ScoreInput): unknown {
  const { event, facts } = input;
  const resource = "resource" in event && event.resource ? event.resource : {};
  return {
    ...event,
    ...(event.type === "action" ? { action: { ...event.action, kind: facts?.kind ?? "" }, args: event.args ?? {} } : {}),
    resource: {
      type: "",
      id: "",
      classification: "",
      owner: "",
      destination: "",
      external: false,
      ...resource,
      sensitivity: facts?.tags ?? ("sensitivity" in resource ? resource.sensitivity : []) ?? [],
    },
    context: { ...event.context, device: { ...event.context?.device } },
    destinations: input.destinations,
  };
}

function sessionVariable(input: ScoreInput): unknown {
  const { after } = input;
  const intent = after.intent;
  return {
    id: after.sessionId,
    agentId: after.agentId,
    principalId: after.principalId,
    started: after.started,
    intent: {
      goal: intent?.goal ?? "",
      capabilities: intent?.capabilities ?? [],
      resources: intent?.resources ?? [],
      maxSensitivity: intent?.maxSensitivity ?? "",
    },
    grants: after.grants,
    removed: after.enforcement.removed,
    touched: after.touched.tags,
    maxClassification: after.touched.maxClassification ?? "",
    counters: after.counters,
    riskScore: input.before.risk.score,
    recent: after.recent.map((a) => a.capability),
  };
}

function baselineVariable(input: ScoreInput): unknown {
  const view = (b: typeof input.agentBaseline) => ({ sessions: b.sessions, actions: b.actions, capabilities: b.capabilities, destinations: b.destinations });
  return { agent: view(input.agentBaseline), principal: view(input.principalBaseline) };
}

/**
 * The rule variables, each of the three built when a condition first reads it: most conditions
 * stop at `event` (`event.type == "action" && …`), and the session's and baselines' views
 * cost as much to build as the rest of the scoring of a call.
 */
function lazyVariables(input: ScoreInput): { event: unknown; session: unknown; baseline: unknown } {
  let event: unknown;
  let session: unknown;
  let baseline: unknown;
  return {
    get event() {
      return (event ??= eventVariable(input));
    },
    get session() {
      return (session ??= sessionVariable(input));
    },
    get baseline() {
      return (baseline ??= baselineVariable(input));
    },
  };
}

export interface RuleOutcome {
  readonly signals: Signal[];
  readonly errors: { ruleId: string; error: string }[];
}

export function ruleScorer(input: ScoreInput): RuleOutcome {
  const signals: Signal[] = [];
  const errors: { ruleId: string; error: string }[] = [];
  const rules = input.policy.rules.filter((r) => r.eventType === undefined || r.eventType === input.event.type);
  if (rules.length === 0) return { signals, errors };
  const vars = lazyVariables(input);
  const capability = input.event.type === "action" ? input.event.action.capability : undefined;
  for (const rule of rules) {
    const result = rule.condition.evaluate(vars);
    if (!result.ok) {
      errors.push({ ruleId: rule.entry.id, error: result.error });
      continue;
    }
    if (!result.value) continue;
    signals.push({
      code: `rule.${rule.entry.id}`,
      message: rule.entry.message ?? `rule ${rule.entry.id} matched`,
      weight: rule.entry.weight ?? 0,
      decision: rule.entry.decision,
      review: rule.entry.review,
      ...(capability ? { capability } : {}),
    });
  }
  return { signals, errors };
}
