import type { ChainableCommander, Redis } from "ioredis";
import calculateSlot from "cluster-key-slot";
import type { Baseline, SodRecord } from "../../core/index.js";
import { MERGE_BASELINE } from "./baseline-merge.js";
import type { Changes, DurableState, LoadRequest, Loaded, LogPartition, SessionSnapshot } from "../../app/durable-state.js";
import type { CaseChange, CaseExplanation, CaseSeverity, CaseState, ReviewCase } from "../../app/cases.js";
import { MAX_CASE_COMMANDS, MAX_TIMELINE, listed } from "../../app/cases.js";
import { baselineKey, parseSnapshot } from "../../app/durable-state.js";

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

/** The ledger keeps the last records per business object, for this long after the last step. */
export const SOD_RECORDS_PER_KEY = 1000;
export const SOD_TTL_SECONDS = 90 * 86_400;
/** A baseline nobody has added to for this long is forgotten (it is learned again). */
export const BASELINE_TTL_SECONDS = 90 * 86_400;
/** A decided review case is kept this long after its verdict. */
export const CASE_TTL_SECONDS = 90 * 86_400;

export interface RedisStateOptions {
  readonly prefix: string;
  readonly sessionTtlSeconds: number;
  /** Observes each round trip (for the Redis latency histogram). */
  readonly onRoundTrip?: (op: "load" | "persist", seconds: number) => void;
  /** Redis Cluster: a batch's journal was applied again after an interrupted persist (its number of writes). */
  readonly onRolledForward?: (writes: number) => void;
}

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

interface Read {
  readonly key: string;
  readonly list?: boolean | number;
  readonly hash?: boolean;
}
/** One Redis write as data: applied in a MULTI, and kept in a cluster batch's journal to be applied again after a crash. */
type Op =
  | { readonly c: "set"; readonly key: string; readonly value: string; readonly ex: number }
  | { readonly c: "rpush"; readonly key: string; readonly value: string; readonly keep: number; readonly ex?: number }
  | { readonly c: "hset"; readonly key: string; readonly fields: Readonly<Record<string, string>> }
  | { readonly c: "expire"; readonly key: string; readonly seconds: number }
  | { readonly c: "zadd"; readonly key: string; readonly score: number; readonly member: string }
  | { readonly c: "zrem"; readonly key: string; readonly member: string }
  | { readonly c: "zcut"; readonly key: string; readonly below: number }
  /** A baseline delta merged into the stored baseline (MERGE_BASELINE); `mark` '' when the batch has no log position. */
  | {
      readonly c: "merge";
      readonly key: string;
      readonly meta: string;
      readonly delta: string;
      readonly mark: string;
      readonly through: string;
      readonly ex: number;
    };

/** Writes to one key's slot (`key` decides the slot; every op's key shares its hash tag). */
interface Write {
  readonly key: string;
  readonly ops: readonly Op[];
}

function addOp(m: ChainableCommander, op: Op): void {
  switch (op.c) {
    case "set":
      m.set(op.key, op.value, "EX", op.ex);
      return;
    case "rpush":
      m.rpush(op.key, op.value).ltrim(op.key, -op.keep, -1);
      if (op.ex !== undefined) m.expire(op.key, op.ex);
      return;
    case "hset":
      m.hset(op.key, op.fields);
      return;
    case "expire":
      m.expire(op.key, op.seconds);
      return;
    case "zadd":
      m.zadd(op.key, op.score, op.member);
      return;
    case "zrem":
      m.zrem(op.key, op.member);
      return;
    case "zcut":
      m.zremrangebyscore(op.key, "-inf", op.below);
      return;
    case "merge":
      m.eval(MERGE_BASELINE, 2, op.key, op.meta, op.delta, op.mark, op.through, op.ex);
      return;
    default: {
      const _exhaustive: never = op;
      return _exhaustive;
    }
  }
}

/** An append applied again only when the list's tail does not hold it already (a journal replayed after a crash). */
const RPUSH_ONCE = `
if redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1, 'MAXLEN', tonumber(ARGV[2])) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1`;

/** A case from its hash and lists; undefined when the hash is gone (expired). */
function caseFromHash(h: Record<string, string> | null, commands: readonly string[], timeline: readonly string[]): ReviewCase | undefined {
  if (!h || h.caseId === undefined) return undefined;
  return {
    caseId: h.caseId,
    sessionId: h.sessionId ?? "",
    agentId: h.agentId ?? "",
    principalId: h.principalId ?? "",
    state: (h.state ?? "pending") as CaseState,
    openedAt: h.openedAt ?? "",
    reasons: JSON.parse(h.reasons ?? "[]") as ReviewCase["reasons"],
    ...(h.decidedAt ? { decidedAt: h.decidedAt } : {}),
    ...(h.reviewer ? { reviewer: h.reviewer } : {}),
    ...(h.note ? { note: h.note } : {}),
    ...(h.revoked === "true" ? { revoked: true } : {}),
    ...(h.feedback ? { feedback: JSON.parse(h.feedback) as NonNullable<ReviewCase["feedback"]> } : {}),
    ...(h.explanation ? { explanation: h.explanation } : {}),
    ...(h.goal ? { goal: h.goal } : {}),
    ...(h.severity ? { severity: h.severity as CaseSeverity } : {}),
    ...(h.riskScore ? { riskScore: Number(h.riskScore) } : {}),
    ...(h.evidence ? { evidence: JSON.parse(h.evidence) as NonNullable<ReviewCase["evidence"]> } : {}),
    commands: commands.map((c) => JSON.parse(c) as ReviewCase["commands"][number]),
    timeline: timeline.map((e) => JSON.parse(e) as ReviewCase["timeline"][number]),
  };
}

/** A case's explanation as hash fields (evidence as JSON). */
const explanationFields = (e: CaseExplanation): Record<string, string> => ({
  ...(e.explanation !== undefined ? { explanation: e.explanation } : {}),
  ...(e.goal !== undefined ? { goal: e.goal } : {}),
  ...(e.severity !== undefined ? { severity: e.severity } : {}),
  ...(e.riskScore !== undefined ? { riskScore: String(e.riskScore) } : {}),
  ...(e.evidence !== undefined ? { evidence: JSON.stringify(e.evidence) } : {}),
});

/** Indices grouped by the hash slot of their key; one group on a single server. */
function bySlot<T extends { key: string }>(items: readonly T[], cluster: boolean): number[][] {
  if (!cluster) return items.length > 0 ? [items.map((_, i) => i)] : [];
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const slot = calculateSlot(item.key);
    const g = groups.get(slot);
    if (g) g.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}

export function redisState(redis: RedisClient, o: RedisStateOptions): DurableState {
  const k = stateKeys(o.prefix);
  const cluster = redis.isCluster;
  const timed = async <T>(op: "load" | "persist", f: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      o.onRoundTrip?.(op, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };

  async function readAll(reads: readonly Read[]): Promise<unknown[]> {
    const values = new Array<unknown>(reads.length);
    await Promise.all(
      bySlot(reads, cluster).map(async (group) => {
        const p = redis.pipeline();
        for (const i of group) {
          const r = reads[i] as Read;
          if (r.hash) p.hgetall(r.key);
          else if (r.list) p.lrange(r.key, typeof r.list === "number" ? -r.list : -SOD_RECORDS_PER_KEY, -1);
          else p.get(r.key);
        }
        const results = (await p.exec()) ?? [];
        group.forEach((i, j) => {
          const [err, v] = results[j] ?? [new Error("missing reply"), null];
          if (err) throw err;
          values[i] = v;
        });
      }),
    );
    return values;
  }

  async function transaction(writes: readonly Write[], extra?: (m: ChainableCommander) => void): Promise<void> {
    const m = redis.multi();
    for (const w of writes) for (const op of w.ops) addOp(m, op);
    extra?.(m);
    const results = await m.exec();
    const failed = results?.find(([err]) => err);
    if (results === null || failed) throw new Error(`redis persist failed: ${failed?.[0]?.message ?? "transaction aborted"}`);
  }

  /** The writes of one case change (all in the case's slot, but the two indexes). */
  function caseWrites(c: CaseChange): Write[] {
    if (c.kind === "open") {
      const s = c.summary;
      const key = k.case(s.caseId);
      const fields = {
        caseId: s.caseId,
        sessionId: s.sessionId,
        agentId: s.agentId,
        principalId: s.principalId,
        state: s.state,
        openedAt: s.openedAt,
        reasons: JSON.stringify(s.reasons),
        ...explanationFields(s),
      };
      const list = k.caseTimeline(s.caseId);
      return [
        { key, ops: [{ c: "hset", key, fields }] },
        ...(c.timeline.length > 0
          ? [{ key: list, ops: c.timeline.map((e): Op => ({ c: "rpush", key: list, value: JSON.stringify(e), keep: MAX_TIMELINE })) }]
          : []),
        { key: k.pending, ops: [{ c: "zadd", key: k.pending, score: Date.parse(s.openedAt), member: s.caseId }] },
      ];
    }
    const key = k.case(c.caseId);
    switch (c.kind) {
      case "reasons":
        return [{ key, ops: [{ c: "hset", key, fields: { reasons: JSON.stringify(c.reasons) } }] }];
      case "explained":
        return [{ key, ops: [{ c: "hset", key, fields: explanationFields(c.explained) }] }];
      case "command": {
        const list = k.caseCommands(c.caseId);
        return [{ key: list, ops: [{ c: "rpush", key: list, value: JSON.stringify(c.command), keep: MAX_CASE_COMMANDS }] }];
      }
      case "timeline": {
        const list = k.caseTimeline(c.caseId);
        return [{ key: list, ops: [{ c: "rpush", key: list, value: JSON.stringify(c.entry), keep: MAX_TIMELINE }] }];
      }
      case "decided": {
        const at = Date.parse(c.decidedAt);
        const fields = {
          state: c.state,
          decidedAt: c.decidedAt,
          reviewer: c.reviewer,
          ...(c.note ? { note: c.note } : {}),
          ...(c.revoked ? { revoked: "true" } : {}),
          ...(c.feedback ? { feedback: JSON.stringify(c.feedback) } : {}),
        };
        return [
          {
            key,
            ops: [
              { c: "hset", key, fields },
              { c: "expire", key, seconds: CASE_TTL_SECONDS },
              { c: "expire", key: k.caseCommands(c.caseId), seconds: CASE_TTL_SECONDS },
              { c: "expire", key: k.caseTimeline(c.caseId), seconds: CASE_TTL_SECONDS },
            ],
          },
          { key: k.pending, ops: [{ c: "zrem", key: k.pending, member: c.caseId }] },
          {
            key: k.decided,
            ops: [
              { c: "zadd", key: k.decided, score: at, member: c.caseId },
              { c: "zcut", key: k.decided, below: at - CASE_TTL_SECONDS * 1000 },
            ],
          },
        ];
      }
      default: {
        const _exhaustive: never = c;
        return _exhaustive;
      }
    }
  }

  /** The position write: created by a batch that starts the state, else only over one already recorded (SET XX). */
  const setPosition = (log: NonNullable<Changes["log"]>) => (m: ChainableCommander) =>
    log.create ? m.set(k.log(log), log.through) : m.set(k.log(log), log.through, "XX");

  /**
   * Redis Cluster: a batch's writes span slots, and a MULTI holds one slot. So the batch's
   * writes go first to a journal in the slot of its log position, then to their slots, and
   * last the position is written and the journal deleted, in one MULTI. A crash in between
   * leaves the journal: the next load of that partition applies it again (appends only where
   * the list does not hold them yet) before reading anything, so the state is the batch's
   * whole or nothing, as on one server.
   */
  async function rollForward(log: NonNullable<LoadRequest["log"]>, text: string): Promise<void> {
    const journalKey = k.journal(log);
    const j = JSON.parse(text) as { through: string; create: boolean; writes: Write[] };
    await Promise.all(
      bySlot(j.writes, true).map(async (group) => {
        for (const i of group) {
          const w = j.writes[i] as Write;
          for (const op of w.ops) {
            if (op.c === "rpush") await redis.eval(RPUSH_ONCE, 1, op.key, op.value, op.keep, op.ex ?? "");
            else await transaction([{ key: w.key, ops: [op] }]);
          }
        }
      }),
    );
    await transaction([], (m) => setPosition({ ...log, through: j.through, create: j.create })(m).del(journalKey));
    o.onRolledForward?.(j.writes.length);
  }

  async function load(req: LoadRequest): Promise<Loaded> {
    if (req.sessions.length + req.baselines.length + req.sodKeys.length === 0 && !req.log) return { sessions: new Map(), baselines: new Map(), sod: new Map() };
    const loaded = await timed("load", async () => {
      const reads: Read[] = [
        ...req.sessions.map((id) => ({ key: k.session(id) })),
        ...req.baselines.map((b) => ({ key: k.baseline(baselineKey(b.kind, b.id)) })),
        ...req.sodKeys.map((key) => ({ key: k.sod(key), list: true })),
        ...(req.log ? [{ key: k.log(req.log) }] : []),
        // A cluster's journal shares the position's slot: read in the same round trip.
        ...(req.log && cluster ? [{ key: k.journal(req.log) }] : []),
      ];
      const values = await readAll(reads);
      let i = 0;
      const sessions = new Map<string, SessionSnapshot>();
      for (const id of req.sessions) {
        const v = values[i++];
        if (typeof v === "string") sessions.set(id, parseSnapshot(v));
      }
      const baselines = new Map<string, Baseline>();
      for (const b of req.baselines) {
        const v = values[i++];
        if (typeof v === "string") baselines.set(baselineKey(b.kind, b.id), JSON.parse(v) as Baseline);
      }
      const sod = new Map<string, SodRecord[]>();
      for (const key of req.sodKeys) {
        const v = values[i++] as string[];
        if (v.length > 0)
          sod.set(
            key,
            v.map((r) => JSON.parse(r) as SodRecord),
          );
      }
      const through = req.log ? values[i++] : undefined;
      const journal = values[i];
      return { sessions, baselines, sod, ...(typeof through === "string" ? { through } : {}), journal: typeof journal === "string" ? journal : undefined };
    });
    const { journal, ...rest } = loaded;
    if (journal === undefined || !req.log) return rest;
    // A persist interrupted after its journal: complete it, then read what it wrote.
    await rollForward(req.log, journal);
    return load(req);
  }

  return {
    load,
    async persist(c: Changes): Promise<void> {
      if (c.sessions.length + c.baselines.length + c.sodAppends.length + c.cases.length === 0 && !c.log) return;
      await timed("persist", async () => {
        const writes: Write[] = [];
        for (const s of c.sessions) {
          const key = k.session(s.state.sessionId);
          writes.push({ key, ops: [{ c: "set", key, value: JSON.stringify(s), ex: o.sessionTtlSeconds }] });
        }
        // Deltas, never whole baselines: another processor may have added to the same one meanwhile.
        const mark = c.log ? `p:${c.log.topic}:${c.log.partition}` : "";
        const through = c.log?.through ?? "0";
        for (const b of c.baselines) {
          const key = k.baseline(baselineKey(b.kind, b.id));
          const meta = k.baselineMeta(baselineKey(b.kind, b.id));
          writes.push({ key, ops: [{ c: "merge", key, meta, delta: JSON.stringify(b.delta), mark, through, ex: BASELINE_TTL_SECONDS }] });
        }
        for (const a of c.sodAppends) {
          const key = k.sod(a.key);
          writes.push({ key, ops: [{ c: "rpush", key, value: JSON.stringify(a.record), keep: SOD_RECORDS_PER_KEY, ex: SOD_TTL_SECONDS }] });
        }
        for (const change of c.cases) writes.push(...caseWrites(change));
        const log = c.log;
        if (!cluster) return transaction(writes, log ? setPosition(log) : undefined);
        if (log) {
          const journalKey = k.journal(log);
          await transaction([], (m) => m.set(journalKey, JSON.stringify({ through: log.through, create: log.create, writes })));
        }
        await Promise.all(bySlot(writes, true).map((group) => transaction(group.map((i) => writes[i] as Write))));
        if (log) await transaction([], (m) => setPosition(log)(m).del(k.journal(log)));
      });
    },
    async listCases(filter = {}) {
      const state = filter.state ?? "pending";
      const limit = filter.limit ?? 100;
      const ids = new Set<string>();
      const p = redis.pipeline();
      if (state === "pending" || state === "all") p.zrevrange(k.pending, 0, limit - 1);
      if (state !== "pending") p.zrevrange(k.decided, 0, 10 * limit - 1);
      for (const [err, v] of (await p.exec()) ?? []) {
        if (err) throw err;
        for (const id of v as string[]) ids.add(id);
      }
      const values = await readAll([...ids].map((id) => ({ key: k.case(id), hash: true })));
      return listed(
        values.map((v) => caseFromHash(v as Record<string, string>, [], [])).filter((x): x is ReviewCase => x !== undefined),
        filter,
      );
    },
    async getCase(caseId: string) {
      const [hash, commands, timeline] = await readAll([
        { key: k.case(caseId), hash: true },
        { key: k.caseCommands(caseId), list: MAX_CASE_COMMANDS },
        { key: k.caseTimeline(caseId), list: MAX_TIMELINE },
      ]);
      return caseFromHash(hash as Record<string, string>, commands as string[], timeline as string[]);
    },
    pendingCount: () => redis.zcard(k.pending),
    async ping() {
      try {
        return (await redis.ping()) === "PONG";
      } catch {
        return false;
      }
    },
  };
}
