import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { schemaRegistry } from "../../src/adapters/schema-registry.js";
import { startVigil } from "../../src/main.js";
import { avroEncoder, createPublisher, toolOutput } from "../../src/sdk/publisher.js";
import { brokers } from "../support/stack-env.js";
import { collect, isolatedEnv, jsonValues, withRegistry } from "../support/live.js";

// The publisher SDK with registry Avro: events go out in Confluent wire format and the
// processor decodes them through the registry like JSON ones.

describe("publisher SDK with registry Avro", () => {
  it("publishes wire-format Avro that the processor decides on", async () => {
    const env = withRegistry(isolatedEnv("sdk-avro", { VIGIL_OUTPUT_FORMAT: "json" }));
    const config = loadConfig(env);
    const running = await startVigil(env);
    const encoder = await avroEncoder(schemaRegistry(config.registryUrl as string), config.topics.events);
    const publisher = await createPublisher({ brokers, topic: config.topics.events, encoder });
    try {
      const who = { sessionId: "avro-1", agent: { id: "code-helper" }, principal: { id: "carol" } };
      await publisher.sessionStarted({ ...who, intent: { goal: "Summarise the repo", capabilities: ["repo.read"] } });
      const read = await publisher.action({ ...who, action: { capability: "repo.read", kind: "read" }, resource: { id: "README.md" } });
      await publisher.actionResult({
        ...who,
        actionEventId: read.eventId,
        outcome: "success",
        output: toolOutput("# Vigil\nContinuous verification 🙂", { mediaType: "text/markdown" }),
        source: { trust: "trusted", origin: "repo:vigil" },
      });
      await publisher.action({
        ...who,
        action: { capability: "secrets.read" },
        resource: { id: "prod/db", sensitivity: ["secret"] },
        args: { path: "prod/db" },
      });
      const events = await collect(config.topics.events, (m) => m.length >= 4, 20_000);
      expect(events.every((m) => m.value?.[0] === 0)).toBe(true);
      const [command] = jsonValues<{ type: string; sessionId: string }>(await collect(config.topics.commands, (m) => m.length >= 1, 30_000));
      expect(command).toMatchObject({ type: "revoke", sessionId: "avro-1" });
      const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/vigil_events_processed_total\{type="action",format="avro"\} 2/);
      expect(metrics).toMatch(/vigil_events_processed_total\{type="action.result",format="avro"\} 1/);
    } finally {
      await publisher.close();
      await running.stop();
    }
  });
});
