import type { AgentEvent } from "../protocol/index.js";
import type { CompiledPolicy, StepInput, StepOutput } from "../core/index.js";
import { emptyBaseline, needsJudgement, step } from "../core/index.js";
import type { Judge } from "./judge.js";
import { questionFor } from "./judge.js";
import type { Clock, StateStore } from "./ports.js";

/** load → evolve → score → decide → save. The same for replay and the live processor. */
export interface Pipeline {
  /** Decides one event without a judge. */
  handle(event: AgentEvent): StepOutput;
  /** Decides one event, first asking the judge when one is configured and the core wants its opinion. */
  handleAsync(event: AgentEvent): Promise<StepOutput>;
  readonly policy: CompiledPolicy;
}

export interface PipelineOptions {
  readonly policy: () => CompiledPolicy;
  readonly store: StateStore;
  /** Optional second opinion on uncertain calls (off by default). */
  readonly judging?: Judging;
}

/** The judge, with the clock that times its answers and what to tell of each. */
export interface Judging {
  readonly judge: Judge;
  readonly clock: Clock;
  readonly onJudged?: (outcome: "drift" | "aligned" | "unanswered", seconds: number) => void;
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { store } = options;
  const load = (event: AgentEvent): StepInput => ({
    session: store.session(event.sessionId),
    // Baselines belong to whoever acts in this event (a session may change agent).
    agentBaseline: store.baseline("agent", event.agent.id) ?? emptyBaseline(),
    principalBaseline: store.baseline("principal", event.principal.id) ?? emptyBaseline(),
    sod: { records: (key) => store.sodRecords(key) },
  });
  const decide = (policy: CompiledPolicy, input: StepInput, event: AgentEvent): StepOutput => {
    const out = step(policy, input, event);
    if (out.duplicate) return out;
    store.putSession(out.session);
    store.putBaseline("agent", event.agent.id, out.agentBaseline);
    store.putBaseline("principal", event.principal.id, out.principalBaseline);
    for (const { key, record } of out.sodAppends) store.appendSod(key, record);
    return out;
  };
  return {
    get policy() {
      return options.policy();
    },
    handle(event) {
      const policy = options.policy();
      return decide(policy, load(event), event);
    },
    async handleAsync(event) {
      const policy = options.policy();
      const input = load(event);
      const judging = options.judging;
      if (judging === undefined || event.type !== "action" || !needsJudgement(policy, input, event)) return decide(policy, input, event);
      const started = judging.clock.monotonicMs();
      const judgement = await judging.judge.assess(questionFor(policy, input.session, event)).catch(() => undefined);
      judging.onJudged?.(judgement === undefined ? "unanswered" : judgement.drift ? "drift" : "aligned", (judging.clock.monotonicMs() - started) / 1000);
      // The store is only touched by this caller, in event order: reloading is not needed.
      return decide(policy, judgement ? { ...input, judgement } : input, event);
    },
  };
}
