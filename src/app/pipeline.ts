import type { AgentEvent } from "../protocol/index.js";
import type { CompiledPolicy, StepOutput } from "../core/index.js";
import { emptyBaseline, step } from "../core/index.js";
import type { StateStore } from "./ports.js";

/** load → evolve → score → decide → save. The same for replay and the live processor. */
export interface Pipeline {
  handle(event: AgentEvent): StepOutput;
  readonly policy: CompiledPolicy;
}

export function createPipeline(options: { policy: () => CompiledPolicy; store: StateStore }): Pipeline {
  const { store } = options;
  return {
    get policy() {
      return options.policy();
    },
    handle(event) {
      const policy = options.policy();
      const session = store.session(event.sessionId);
      // Baselines belong to whoever acts in this event (a session may change agent).
      const agentId = event.agent.id;
      const principalId = event.principal.id;
      const out = step(
        policy,
        {
          session,
          agentBaseline: store.baseline("agent", agentId) ?? emptyBaseline(),
          principalBaseline: store.baseline("principal", principalId) ?? emptyBaseline(),
          sod: { records: (key) => store.sodRecords(key) },
        },
        event,
      );
      if (out.duplicate) return out;
      store.putSession(out.session);
      store.putBaseline("agent", agentId, out.agentBaseline);
      store.putBaseline("principal", principalId, out.principalBaseline);
      for (const { key, record } of out.sodAppends) store.appendSod(key, record);
      return out;
    },
  };
}
