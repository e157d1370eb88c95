import type { Admin } from "kafkajs";
import type { Config } from "../../config/config.js";

const DAY_MS = 86_400_000;

/** The topics Vigil uses, with partitions, retention and compaction (docs/operations.md). */
export function topicSpecs(config: Config) {
  const t = config.topics;
  const spec = (topic: string, configEntries: Record<string, string>, numPartitions = t.partitions) => ({
    topic,
    numPartitions,
    replicationFactor: t.replication,
    configEntries: Object.entries(configEntries).map(([name, value]) => ({ name, value })),
  });
  return [
    spec(t.events, { "retention.ms": String(7 * DAY_MS) }),
    spec(t.commands, { "retention.ms": String(30 * DAY_MS) }),
    spec(t.sessionStatus, { "cleanup.policy": "compact", "min.compaction.lag.ms": "60000", "segment.ms": String(DAY_MS) }),
    spec(t.audit, { "retention.ms": String(90 * DAY_MS) }),
    spec(t.dlq, { "retention.ms": String(30 * DAY_MS), "max.message.bytes": String(Math.max(config.maxMessageBytes * 2, 2 * 1024 * 1024)) }),
    spec(t.acks, { "retention.ms": String(7 * DAY_MS) }),
    // Verdicts are the audit trail of people's decisions: kept a year. Keyed by session id.
    spec(t.reviews, { "retention.ms": String(365 * DAY_MS) }),
  ];
}

/** Creates the missing topics; existing ones are left as they are. Returns the names created. */
export async function ensureTopics(admin: Admin, config: Config): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(config).filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing, waitForLeaders: true });
  return missing.map((s) => s.topic);
}
