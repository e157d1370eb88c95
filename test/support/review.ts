// The review tests' common start: a processor with a reviewer and its own signing key, an
// enforcer trusting it, and the expense story played until both self-approvals are held.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { generateSigningJwk } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import type { Config } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { brokers } from "./stack-env.js";
import { isolatedEnv, produce, untilProcessed, waitFor } from "./live.js";

const story = readFileSync(join(import.meta.dirname, "..", "..", "examples", "scenarios", "expense-self-approval.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean);

export interface HeldStory {
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly running: Running;
  readonly enforcer: Enforcer;
  stop(): Promise<void>;
}

/** Starts it all under `name` with `reviewer:token` (and `extra` configuration), plays the story, and waits until the gateway denies exp-1's approval. */
export async function heldExpenseStory(name: string, reviewer: string, token: string, extra: Record<string, string> = {}): Promise<HeldStory> {
  const env = isolatedEnv(name, { VIGIL_REVIEW_TOKENS: `${reviewer}:${token}`, VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()), ...extra });
  const config = loadConfig(env);
  const running = await startVigil(env);
  let enforcer: Enforcer | undefined;
  const stop = async () => {
    await enforcer?.stop();
    await running.stop();
  };
  try {
    enforcer = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, verify: { jwks: running.jwks } });
    await enforcer.start();
    await produce(
      config.topics.events,
      story.map((value) => ({ key: (JSON.parse(value) as { sessionId: string }).sessionId, value })),
    );
    await untilProcessed(config.kafka.groupId, config.topics.events);
    const held = enforcer;
    expect(await waitFor(() => held.check("exp-1", "expense.approve", "ER-1042").outcome === "deny", 15_000)).toBe(true);
    return { env, config, running, enforcer: held, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
