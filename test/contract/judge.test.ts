import { openAiJudge } from "../../src/adapters/judge/openai-judge.js";
import { systemClock } from "../../src/adapters/clock.js";
import { withBudget } from "../../src/app/judge.js";
import { judgeContract } from "./judge.contract.js";

judgeContract("OpenAI-compatible endpoint", (url, timeoutMs) => openAiJudge({ url, model: "judge-1", timeoutMs }));
judgeContract("with a batch budget left", (url, timeoutMs) => withBudget(openAiJudge({ url, model: "judge-1", timeoutMs }), 60_000, systemClock));
