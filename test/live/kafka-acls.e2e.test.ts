import { readFileSync } from "node:fs";
import { join } from "node:path";
import kafkajs from "kafkajs";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningJwk } from "../../src/adapters/signing.js";
import { loadConfig } from "../../src/config/config.js";
import { topicSpecs } from "../../src/adapters/kafka/topics.js";
import type { Logger } from "../../src/adapters/logger.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { createPublisher } from "../../src/sdk/publisher.js";
import type { EventInput, Publisher } from "../../src/sdk/publisher.js";
import { aclsFromCommandLines, startAclBroker } from "../support/acl-broker.js";
import type { AclBroker } from "../support/acl-broker.js";
import { isolatedEnv, metric, readAll, untilProcessed, waitFor } from "../support/live.js";

// The Kafka ACLs of docs/security.md, on a broker that enforces them: a throwaway Kafka of
// this test's own (SASL/PLAIN, StandardAuthorizer, no access without an ACL), not the
// stack's. The ACLs applied are the `kafka-acls` lines of the doc's "Kafka ACLs" section,
// read from the doc itself, so the doc shows what was tested. Then: the processor, as
// User:vigil, decides the events a gateway (User:gateway) publishes, and the gateway's
// enforcer reads the commands and acknowledges them; an agent with credentials but no ACL
// can neither write Vigil's topics nor read its commands; the gateway cannot write, delete
// or alter the processor's output; the processor can.

const root = join(import.meta.dirname, "..", "..");
const story = join(root, "examples", "scenarios", "expense-self-approval.jsonl");
const USERS = { admin: "admin-secret", vigil: "vigil-secret", gateway: "gateway-secret", agent: "agent-secret", reader: "reader-secret" };

/** The `kafka-acls` lines of the "## Kafka ACLs" section of docs/security.md. */
function documentedAcls() {
  const doc = readFileSync(join(root, "docs", "security.md"), "utf8");
  const start = doc.indexOf("\n## Kafka ACLs\n");
  if (start === -1) throw new Error('docs/security.md has no "## Kafka ACLs" section');
  const end = doc.indexOf("\n## ", start + 1);
  return aclsFromCommandLines(doc.slice(start, end === -1 ? undefined : end));
}

/** The Kafka error code a refused call failed with (kafkajs wraps it in retry errors), or "resolved" if it did not fail. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "resolved";
  } catch (e) {
    for (let err: unknown = e; err;) {
      const x = err as { type?: unknown; cause?: unknown; originalError?: unknown; partitions?: { error?: unknown }[] };
      if (err instanceof kafkajs.KafkaJSProtocolError) return err.type;
      const partitionError = x.partitions?.find((p) => p.error)?.error;
      err = x.cause ?? x.originalError ?? partitionError;
    }
    return `unexpected: ${String(e)}`;
  }
}

async function send(client: Kafka, topic: string, key: string, value: string | null): Promise<void> {
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key, value }], acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

async function withAdmin<T>(client: Kafka, f: (admin: kafkajs.Admin) => Promise<T>): Promise<T> {
  const admin = client.admin();
  await admin.connect();
  try {
    return await f(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Polls an async condition every 200 ms until it holds or `ms` pass; returns whether it held. */
async function eventually(cond: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return cond();
}

/** What the gateway's attempts could change: the topics, and the low and high offsets and retention of these two. */
async function outputState(admin: kafkajs.Admin) {
  const topics = ["vigil.commands", "vigil.session-status"];
  const offsets = await Promise.all(topics.map(async (t) => (await admin.fetchTopicOffsets(t)).map((p) => `${t}/${p.partition}: ${p.low}-${p.high}`)));
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ["retention.ms", "cleanup.policy"] })),
  });
  return {
    topics: (await admin.listTopics()).filter((t) => !t.startsWith("__")).sort(),
    offsets: offsets.flat(),
    configs: configs.resources.map((r) => `${r.resourceName}: ${r.configEntries.map((c) => `${c.configName}=${c.configValue}`).join(" ")}`),
  };
}

describe("the Kafka ACLs of docs/security.md, on a broker with an authoriser (live)", () => {
  let broker: AclBroker | undefined;
  const acls = documentedAcls();
  const base = isolatedEnv("acls"); // a Redis prefix of its own
  const env = (extra: Record<string, string> = {}) => ({
    ...base,
    // The broker is this test's own: Vigil's plain topic and group names, as in the doc.
    VIGIL_TOPIC_PREFIX: "",
    VIGIL_GROUP_ID: "vigil-processor",
    VIGIL_KAFKA_BROKERS: (broker as AclBroker).brokers.join(","),
    VIGIL_KAFKA_SASL_MECHANISM: "plain",
    VIGIL_KAFKA_SASL_USERNAME: "vigil",
    VIGIL_KAFKA_SASL_PASSWORD: USERS.vigil,
    VIGIL_CREATE_TOPICS: "false",
    ...extra,
  });
  const as = (user: keyof typeof USERS) => (broker as AclBroker).client(user);

  beforeAll(async () => {
    broker = await startAclBroker(USERS);
    const config = loadConfig(env());
    await withAdmin(as("admin"), async (admin) => {
      await admin.createTopics({ topics: topicSpecs(config), waitForLeaders: true });
      await admin.createAcls({ acl: acls });
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("the doc's list grants the processor, the gateways and the reviewers, and nothing to anyone else", async () => {
    expect(new Set(acls.map((a) => a.principal))).toEqual(new Set(["User:vigil", "User:gateway", "User:reviewer"]));
    expect(acls.every((a) => a.permissionType === kafkajs.AclPermissionTypes.ALLOW)).toBe(true);
    const described = await withAdmin(as("admin"), (admin) =>
      admin.describeAcls({
        resourceType: kafkajs.AclResourceTypes.ANY,
        resourcePatternType: kafkajs.ResourcePatternTypes.ANY,
        operation: kafkajs.AclOperationTypes.ANY,
        permissionType: kafkajs.AclPermissionTypes.ANY,
      }),
    );
    expect(described.resources.reduce((n, r) => n + r.acls.length, 0)).toBe(acls.length);
  });

  it(
    "User:vigil runs the processor: it decides what User:gateway publishes, and the gateway's enforcer applies and acknowledges the commands",
    { timeout: 60_000 },
    async () => {
      const logs: string[] = [];
      const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
      const log: Logger = { debug: () => {}, info: record("info"), warn: record("warn"), error: record("error") };
      // With the SSF transmitter on: it reads vigil.commands in a fourth group.
      const e = env({
        VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()),
        VIGIL_SSF_RECEIVERS: "idp:idp-token-0123456789",
        VIGIL_SSF_ISSUER: "http://127.0.0.1:9464",
      });
      const config = loadConfig(e);
      let running: Running | undefined;
      let enforcer: Enforcer | undefined;
      let publisher: Publisher | undefined;
      try {
        running = await startVigil(e, log);
        const httpPort = running.httpPort;
        enforcer = await createEnforcer({ kafka: as("gateway"), verify: { jwks: running.jwks }, log: () => {} });
        await enforcer.start();
        // The time-to-enforce consumer (group vigil-processor-acks, reading vigil.acks) has joined.
        const acksGroup = async () =>
          (await withAdmin(as("admin"), (admin) => admin.describeGroups([`${config.kafka.groupId}-acks`]))).groups[0]?.state ?? "none";
        expect(await eventually(async () => (await acksGroup()) === "Stable"), logs.join("\n")).toBe(true);

        publisher = await createPublisher({ kafka: as("gateway") });
        for (const line of readFileSync(story, "utf8").split("\n").filter(Boolean)) await publisher.publish(JSON.parse(line) as EventInput);
        await publisher.flush();
        // And one record that is not an event, for the dead-letter topic.
        await send(as("gateway"), config.topics.events, "exp-1", "not an event");

        await untilProcessed(config.kafka.groupId, config.topics.events, 30_000, as("admin")).catch((err: Error) => {
          throw new Error(`${err.message}\nthe processor's log:\n${logs.join("\n")}`);
        });
        expect(await waitFor(() => enforcer?.check("exp-1", "expense.approve", "ER-1042").outcome === "deny", 15_000), logs.join("\n")).toBe(true);
        await untilProcessed(`${config.kafka.groupId}-ssf`, config.topics.commands, 30_000, as("admin")).catch((err: Error) => {
          throw new Error(`the SSF feed: ${err.message}\nthe processor's log:\n${logs.join("\n")}`);
        });
        expect(enforcer.counts().applied).toBeGreaterThanOrEqual(1);
        expect(Object.values(enforcer.counts().refused).reduce((a, b) => a + b, 0)).toBe(0);
        // The processor read the gateway's acknowledgement: vigil.acks in group vigil-processor-acks.
        expect(await eventually(async () => (await metric(httpPort, "vigil_time_to_enforce_seconds_count")) >= 1), logs.join("\n")).toBe(true);
        // It wrote the audit trail and dead-lettered the record that is not an event.
        expect((await readAll(config.topics.audit, 15_000, as("admin"))).length).toBeGreaterThanOrEqual(1);
        expect((await readAll(config.topics.dlq, 15_000, as("admin"))).map((r) => r.key)).toEqual(["exp-1"]);
        expect(logs.filter((l) => /authoriz/i.test(l))).toEqual([]);
      } finally {
        await publisher?.close();
        await enforcer?.stop();
        await running?.stop();
      }
    },
  );

  it("User:agent can authenticate, but cannot write Vigil's topics or read its commands and statuses", async () => {
    // SASL is on: a wrong password is refused before any authorisation.
    await expect(withAdmin((broker as AclBroker).client("agent", "wrong"), (admin) => admin.listTopics())).rejects.toThrow(/SASL PLAIN authentication failed/);
    const agent = as("agent");
    for (const topic of ["vigil.commands", "vigil.session-status", "vigil.events"]) {
      expect(await refusal(send(agent, topic, "exp-1", "{}")), topic).toBe("TOPIC_AUTHORIZATION_FAILED");
    }
    const reader = agent.consumer({ groupId: "enforcer-agent" });
    await reader.connect();
    try {
      for (const topic of ["vigil.commands", "vigil.session-status"]) {
        expect(await refusal(reader.subscribe({ topics: [topic], fromBeginning: true })), topic).toBe("TOPIC_AUTHORIZATION_FAILED");
      }
    } finally {
      await reader.disconnect();
    }
    for (const topic of ["vigil.commands", "vigil.session-status"]) {
      expect(await refusal(withAdmin(agent, (admin) => admin.fetchTopicOffsets(topic))), topic).toBe("TOPIC_AUTHORIZATION_FAILED");
    }
  });

  it("User:gateway cannot write, delete or alter the processor's output", async () => {
    const gateway = as("gateway");
    const before = await withAdmin(as("admin"), outputState);
    const restore = JSON.stringify({ commandId: "forged", type: "restore", sessionId: "exp-1" });
    expect(await refusal(send(gateway, "vigil.commands", "exp-1", restore))).toBe("TOPIC_AUTHORIZATION_FAILED");
    expect(await refusal(send(gateway, "vigil.session-status", "exp-1", null))).toBe("TOPIC_AUTHORIZATION_FAILED");
    for (const topic of ["vigil.commands", "vigil.session-status"]) {
      expect(
        await refusal(
          withAdmin(gateway, async (a) => {
            await a.fetchTopicMetadata({ topics: [topic] }); // kafkajs needs the leaders first (the gateway may describe the topic)
            await a.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "-1" }] });
          }),
        ),
        topic,
      ).toBe("TOPIC_AUTHORIZATION_FAILED");
      expect(await refusal(withAdmin(gateway, (a) => a.deleteTopics({ topics: [topic] }))), topic).toBe("TOPIC_AUTHORIZATION_FAILED");
      expect(
        await refusal(
          withAdmin(gateway, (a) =>
            a.alterConfigs({
              validateOnly: false,
              resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "1" }] }],
            }),
          ),
        ),
        topic,
      ).toBe("TOPIC_AUTHORIZATION_FAILED");
    }
    const after = await withAdmin(as("admin"), outputState);
    expect(after).toEqual(before);
    expect(after.topics).toEqual(
      topicSpecs(loadConfig(env()))
        .map((t) => t.topic)
        .sort(),
    );
  });

  it("User:vigil can write vigil.commands", async () => {
    expect(await refusal(send(as("vigil"), "vigil.commands", "acl-test", "{}"))).toBe("resolved");
  });

  it(
    "a processor whose principal may not write vigil.commands stops deciding and says so (Running.failed), instead of looking alive",
    { timeout: 60_000 },
    async () => {
      // Last: it adds ACLs of its own (the count above is the doc's). User:reader gets the
      // processor's ACLs except Write on vigil.commands (with no Write at all, its idempotent
      // producer would be refused at start, which startVigil reports by throwing).
      const group = "reader-processor";
      const lines = [
        `kafka-acls --add --allow-principal User:reader --operation Read --topic vigil.events --topic vigil.acks --topic vigil.reviews`,
        `kafka-acls --add --allow-principal User:reader --operation Read --group ${group} --group ${group}-acks --group ${group}-reviews`,
        `kafka-acls --add --allow-principal User:reader --operation Write --topic vigil.session-status --topic vigil.audit --topic vigil.events.dlq`,
      ].join("\n");
      await withAdmin(as("admin"), (admin) => admin.createAcls({ acl: aclsFromCommandLines(lines) }));
      const e = env({
        VIGIL_SIGNING_KEY: JSON.stringify(await generateSigningJwk()),
        VIGIL_KAFKA_SASL_USERNAME: "reader",
        VIGIL_KAFKA_SASL_PASSWORD: USERS.reader,
        VIGIL_GROUP_ID: group,
        // State of its own: with the first processor's, every event would be already applied and no command due.
        VIGIL_REDIS_PREFIX: `${base.VIGIL_REDIS_PREFIX}reader:`,
      });
      const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
      const running = await startVigil(e, quiet);
      try {
        const failed = await Promise.race([running.failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 45_000))]);
        expect(failed?.message).toMatch(/authoriz/i);
      } finally {
        await running.stop();
      }
    },
  );
});
