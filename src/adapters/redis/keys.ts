import type { Redis } from "ioredis";
import type { LogPartition } from "../../app/durable-state.js";

// Redis (one server, or a Redis Cluster through ioredis's Cluster) as the durable state of
// the processor. Keys (prefix default "vigil:"); the part in {braces} is the Redis Cluster
// hash tag, so everything of one session lives in one slot:
//   session:{<sessionId>}                 JSON { state, topic, partition, offset, key }   expires after the session TTL
//   baseline:{<agent|principal>:<id>}     JSON baseline                                   expires BASELINE_TTL_SECONDS after its last update
//   baseline:{<agent|principal>:<id>}:meta  hash: per input partition the last offset merged, instants (baseline-merge.ts)
//   sod:{<rule>|<domain>|<resource>}      list of JSON ledger records (appended, never rewritten), expires SOD_TTL_SECONDS after the last step
//   log:{<topic>}:<partition>             the last offset whose batch the state holds (never expires)
//   case:{<caseId>}                       hash: the review case's summary fields (reasons as JSON)
//   case:{<caseId>}:commands, :timeline   lists of JSON (the last MAX_CASE_COMMANDS / MAX_TIMELINE)
//   cases:pending, cases:decided          sorted sets of case ids by when they opened / were decided
// A decided case's keys expire CASE_TTL_SECONDS after the verdict; a pending one stays.
// One server: one pipelined round trip loads a batch and one MULTI/EXEC writes all of it,
// the log position included. A cluster: the same commands grouped by hash slot (a pipeline
// and a MULTI per slot, all slots at once), and the log position written only after every
// slot's MULTI succeeded, so it never claims more than the state holds.
//
// The state's parts, one module each behind the one DurableState port (redis-state.ts):
// sessions, baselines and the ledger in redis-state.ts, review cases in cases-store.ts,
// the cluster batch journal in journal.ts, reads and writes as data in io.ts.

/** The ledger keeps the last records per business object, for this long after the last step. */
export const SOD_RECORDS_PER_KEY = 1000;
export const SOD_TTL_SECONDS = 90 * 86_400;
/** A baseline nobody has added to for this long is forgotten (it is learned again). */
export const BASELINE_TTL_SECONDS = 90 * 86_400;
/** A decided review case is kept this long after its verdict. */
export const CASE_TTL_SECONDS = 90 * 86_400;

/** A Redis client or a Redis Cluster client (ioredis `Redis` or `Cluster`). */
export type RedisClient = Pick<Redis, "pipeline" | "multi" | "ping" | "zcard" | "isCluster" | "eval">;

/** The keys of one prefix, hash-tagged for Redis Cluster. */
export function stateKeys(prefix: string) {
  return {
    session: (id: string) => `${prefix}session:{${id}}`,
    baseline: (key: string) => `${prefix}baseline:{${key}}`,
    baselineMeta: (key: string) => `${prefix}baseline:{${key}}:meta`,
    sod: (key: string) => `${prefix}sod:{${key}}`,
    log: (l: LogPartition) => `${prefix}log:{${l.topic}}:${l.partition}`,
    /** Redis Cluster: the writes of a batch being persisted, in its position's slot (see rollForward). */
    journal: (l: LogPartition) => `${prefix}journal:{${l.topic}}:${l.partition}`,
    case: (caseId: string) => `${prefix}case:{${caseId}}`,
    caseCommands: (caseId: string) => `${prefix}case:{${caseId}}:commands`,
    caseTimeline: (caseId: string) => `${prefix}case:{${caseId}}:timeline`,
    pending: `${prefix}cases:pending`,
    decided: `${prefix}cases:decided`,
  };
}
