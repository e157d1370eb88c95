import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { generateSigningJwk, recordSigner } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Command } from "../../src/protocol/index.js";
import { SIGNATURE_HEADER } from "../../src/protocol/signature.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { brokers } from "../support/stack-env.js";
import { isolatedEnv, processorSigner, produce, readAll, trustedKeys, untilProcessed, waitFor } from "../support/live.js";

// Anyone who can write to vigil.commands — the agent Vigil watches included — tries to undo
// a hold. The processor signs every command and status it writes; an enforcer that trusts
// only its keys refuses each forgery, written with kcat as an attacker would: unsigned
// restore and grant commands and an unsigned status, a restore signed with the attacker's
// own key, the real downgrade's signature on an edited value, and a genuinely signed restore
// captured a minute earlier and replayed after the hold. An enforcer that does not verify
// is fooled by the same records, so the test shows what the signatures stop.

const story = join(import.meta.dirname, "..", "..", "examples", "scenarios", "expense-self-approval.jsonl");

const kcat = (topic: string, key: string, value: string, header?: string) =>
  execFileSync("kcat", ["-P", "-b", brokers.join(","), "-t", topic, "-k", key, ...(header ? ["-H", `${SIGNATURE_HEADER}=${header}`] : [])], {
    input: value,
  });

describe("forged commands and statuses are refused (live, kcat)", () => {
  it("every processor record is signed; forgeries change nothing for a verifying enforcer and are counted by reason", { timeout: 120_000 }, async () => {
    expect(spawnSync("kcat", ["-V"]).status, "kcat is missing: apt-get install kcat").toBe(0);
    const env = isolatedEnv("forged");
    const config = loadConfig(env);
    const running = await startVigil(env);
    const enforcers: Enforcer[] = [];
    try {
      const metricsRegistry = new Registry();
      const guard = await createEnforcer({
        brokers,
        topicPrefix: env.VIGIL_TOPIC_PREFIX,
        acks: false,
        verify: await trustedKeys(env),
        metricsRegistry,
        log: () => {},
      });
      enforcers.push(guard);
      await guard.start();

      const lines = readFileSync(story, "utf8").split("\n").filter(Boolean);
      await produce(
        config.topics.events,
        lines.map((l) => ({ key: (JSON.parse(l) as { sessionId: string }).sessionId, value: l })),
      );
      await untilProcessed(config.kafka.groupId, config.topics.events);
      expect(await waitFor(() => guard.check("exp-1", "expense.approve", "ER-1042").outcome === "deny")).toBe(true);

      // Every record the processor wrote carries a signature.
      const commands = await readAll(config.topics.commands);
      const statuses = await readAll(config.topics.sessionStatus);
      expect(commands.length).toBeGreaterThanOrEqual(2);
      expect(statuses.length).toBeGreaterThanOrEqual(3);
      for (const r of [...commands, ...statuses]) expect(r.headers[SIGNATURE_HEADER], r.value?.toString()).toBeDefined();

      const downgrade = commands.map((r) => ({ r, c: JSON.parse(r.value?.toString() ?? "{}") as Command })).find((x) => x.c.sessionId === "exp-1");
      if (!downgrade) throw new Error("no command for exp-1");
      const restore: Command = {
        ...downgrade.c,
        commandId: "forged-restore",
        type: "restore",
        capabilities: { removed: [], remaining: ["expense.submit", "expense.approve", "expense.read"] },
        review: { required: false, status: "overturned" },
      };
      const grant: Command = { ...restore, commandId: "forged-grant", type: "grant" };
      const restoreText = JSON.stringify(restore);

      // 1-2. Unsigned restore and grant. 3. An unsigned status that clears the hold.
      kcat(config.topics.commands, "exp-1", restoreText);
      kcat(config.topics.commands, "exp-1", JSON.stringify(grant));
      const status = JSON.parse(statuses.find((s) => s.key === "exp-1")?.value?.toString() ?? "{}") as Record<string, unknown>;
      kcat(config.topics.sessionStatus, "exp-1", JSON.stringify({ ...status, status: "active", removed: [], deniedOn: [], time: "2026-11-28T10:00:00Z" }));
      // 4. Signed with the attacker's own key.
      const attacker = await recordSigner({ key: JSON.stringify(await generateSigningJwk()), keyFile: "unused" });
      kcat(config.topics.commands, "exp-1", restoreText, await attacker.sign(config.topics.commands, Buffer.from(restoreText)));
      // 5. The real downgrade's signature on an edited value.
      const realHeader = downgrade.r.headers[SIGNATURE_HEADER]?.toString() as string;
      kcat(config.topics.commands, "exp-1", JSON.stringify({ ...downgrade.c, type: "restore" }), realHeader);
      // 6. A restore the processor really signed, a minute before the hold, replayed now.
      const signer = await processorSigner(env);
      kcat(config.topics.commands, "exp-1", restoreText, await signer.sign(config.topics.commands, Buffer.from(restoreText), Date.now() - 60_000));

      expect(await waitFor(() => Object.values(guard.counts().refused).reduce((a, b) => a + b, 0) >= 6), JSON.stringify(guard.counts())).toBe(true);
      expect(guard.counts().refused).toEqual({ unsigned: 3, malformed: 0, unknown_key: 1, bad_signature: 1, wrong_topic: 0, stale: 1 });
      expect(guard.check("exp-1", "expense.approve", "ER-1042").outcome).toBe("deny");
      expect(await metricsRegistry.metrics()).toContain('vigil_enforcer_records_refused_total{reason="unsigned"} 3');

      // A late enforcer that verifies reads the whole history, forgeries included, and still denies.
      const late = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, acks: false, verify: await trustedKeys(env), log: () => {} });
      enforcers.push(late);
      await late.start();
      expect(await waitFor(() => late.counts().refused.stale === 1)).toBe(true);
      expect(late.check("exp-1", "expense.approve", "ER-1042").outcome).toBe("deny");

      // Without verification the same records would have restored the capability.
      const naive = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, acks: false, verify: { insecureAcceptUnsigned: true } });
      enforcers.push(naive);
      await naive.start();
      expect(await waitFor(() => naive.check("exp-1", "expense.approve", "ER-1042").outcome === "allow")).toBe(true);
    } finally {
      for (const e of enforcers) await e.stop();
      await running.stop();
    }
  });
});
