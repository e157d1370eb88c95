import type { ActionEventT } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { ActionFacts } from "./event-facts.js";
import { NONE } from "./session-state.js";

// What an action is, when the sender did not say: its kind from the event, else the tool
// catalog, else the verbs of its name (the policy's verb table, `scoring.words.verbs`).
// Egress with unknown externality counts as external (fail-safe: an unlabelled send is
// treated as leaving the organisation).

export function actionFacts(policy: CompiledPolicy, event: ActionEventT): ActionFacts {
  const tool = policy.tools.get(event.action.capability) ?? (event.action.tool ? policy.tools.get(event.action.tool) : undefined);
  const kind = event.action.kind ?? tool?.kind ?? policy.lexicon.inferKind(event.action.capability);
  const egress = kind === "egress" || event.resource?.destination !== undefined;
  return {
    ...(kind ? { kind } : {}),
    tags: event.resource?.sensitivity ?? tool?.sensitivity ?? NONE,
    egress,
    external: egress && event.resource?.external !== false,
  };
}
