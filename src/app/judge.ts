import type { CompiledPolicy, Judgement, SessionState } from "../core/index.js";
import type { AgentEvent } from "../protocol/index.js";
import type { Clock } from "./ports.js";

// The optional judge (issue 7): a port, off by default. The core says which calls are
// worth asking about (needsJudgement: risk in the uncertain band just below step-up), the
// pipeline asks, and the verdict goes back into the decision as input. No test and no
// default deployment needs one; `src/adapters/judge/openai-judge.ts` speaks to any
// OpenAI-compatible chat-completions endpoint.

/** Everything a judge is told about one call: the request, the call, what came before. */
export interface JudgeQuestion {
  readonly goal: string;
  readonly principalId: string;
  readonly agentId: string;
  readonly capability: string;
  readonly description?: string;
  readonly args?: Readonly<Record<string, unknown>>;
  /** The capabilities the session called before this one, oldest first (at most 32). */
  readonly earlierCalls: readonly string[];
}

export interface Judge {
  readonly name: string;
  /** The verdict, or undefined when the judge could not answer (the decision then stands without it). */
  assess(question: JudgeQuestion): Promise<Judgement | undefined>;
}

export function questionFor(policy: CompiledPolicy, session: SessionState | undefined, event: Extract<AgentEvent, { type: "action" }>): JudgeQuestion {
  const description = policy.tools.get(event.action.capability)?.description;
  return {
    goal: session?.intent?.goal ?? "",
    principalId: event.principal.id,
    agentId: event.agent.id,
    capability: event.action.capability,
    ...(description !== undefined ? { description } : {}),
    ...(event.args !== undefined ? { args: event.args } : {}),
    earlierCalls: (session?.recent ?? []).map((a) => a.capability),
  };
}

/**
 * A judge that stops asking once `budgetMs` have passed (it then answers nothing at once):
 * a batch waits for its judge in event order, so a slow or dead judge must not hold a
 * partition past the consumer's session timeout. One is made per batch.
 */
export function withBudget(judge: Judge, budgetMs: number, clock: Clock): Judge {
  const deadline = clock.monotonicMs() + budgetMs;
  return { name: judge.name, assess: async (q) => (clock.monotonicMs() >= deadline ? undefined : judge.assess(q)) };
}
