// Many processors, as correct as one: the same events decided once by one `vigil start` and
// once by several in one consumer group, with processors killed (SIGKILL) and stopped and
// restarted (rebalances) during the run. Then the two runs' commands, baselines and
// separation-of-duties ledgers are compared:
//   - commandsEqual: the same commands (by id and content; a re-published one counts once);
//   - baselinesEqual: every agent's and principal's baseline equal, key for key. Agents are
//     shared by principals on different partitions (`sharedAgents`), so their baselines are
//     written by several processors at once and must merge, not overwrite;
//   - ledgerEqual: the same ledger records per business object (as sets: records of
//     different partitions are appended in arrival order);
//   - countsEqual: the counts no decision changes (sessions, capabilities attempted, IPs,
//     geos) equal in every baseline. When one agent serves principals on several partitions,
//     what a decision reads of its baseline depends on how the partitions interleave — for
//     one processor as for many — so decisions, and what ran and was learned, may differ
//     between any two runs; these counts may not (docs/performance.md, "Many processors").
// Used by `npm run bench` (the `scaleOut` key) and test/soak/scale-out.soak.ts.
import { Redis } from "ioredis";
import { cleanup, committed, freePort, readAll, redisUrl, runEnv, seed, startProcessor, stopProcessor } from "./live.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the group has committed `total` events, calling `during(fraction)` as it goes; throws after `timeoutMs`. */
async function untilCommitted(env, topic, total, timeoutMs, during = async () => {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await committed(env.VIGIL_GROUP_ID, topic);
    if (n >= total) return;
    if (Date.now() > deadline) throw new Error(`${env.VIGIL_GROUP_ID}: committed ${n} of ${total} events in ${timeoutMs / 1000} s`);
    await during(n / total);
    await sleep(200);
  }
}

/** A key's part inside the {hash tag}, or the key. */
const tagged = (key) => key.slice(key.indexOf("{") + 1, key.lastIndexOf("}"));

/** Every key of a prefix matching a pattern, with its value (string or list). */
async function scan(redis, match, read) {
  const out = new Map();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
    cursor = next;
    for (const key of keys) out.set(tagged(key), await read(key));
  } while (cursor !== "0");
  return out;
}

/** A JSON value with object keys sorted, so two equal values print equal. */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

/** The parts of a baseline counted whatever was decided. */
const decisionFree = (b) => JSON.stringify(canonical({ sessions: b.sessions, attempted: b.attempted ?? {}, ips: b.ips, geos: b.geos }));

async function stateOf(redis, prefix) {
  const parsed = await scan(redis, `${prefix}baseline:{*}`, async (key) => (key.endsWith(":meta") ? undefined : JSON.parse(await redis.get(key))));
  for (const [k, v] of parsed) if (v === undefined) parsed.delete(k);
  const baselines = new Map([...parsed].map(([k, v]) => [k, JSON.stringify(canonical(v))]));
  const counts = new Map([...parsed].map(([k, v]) => [k, decisionFree(v)]));
  const ledger = await scan(redis, `${prefix}sod:{*}`, async (key) =>
    (await redis.lrange(key, 0, -1)).map((r) => JSON.stringify(canonical(JSON.parse(r)))).sort(),
  );
  return { baselines, counts, ledger };
}

const commandsById = (commands) => new Map(commands.map((c) => [c.commandId, JSON.stringify(canonical(c))]));

function sameMaps(a, b, eq = (x, y) => x === y) {
  const diff = [];
  for (const [k, v] of a) if (!b.has(k) || !eq(v, b.get(k))) diff.push(k);
  for (const k of b.keys()) if (!a.has(k)) diff.push(k);
  return diff;
}

/**
 * Runs the comparison. `messages` carry explicit partitions; `kills` processors are SIGKILLed
 * and as many SIGTERMed, each restarted, spread over the run; no `policyFile`: the built-in
 * policy. Returns the verdicts and what
 * differed (at most 5 keys of each).
 */
export async function scaleOut({ messages, partitions, policyFile = undefined, instances = 3, kills = 1, timeoutMs = 15 * 60_000, log = () => {} }) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  const processes = [];
  const envs = [];
  try {
    // One processor.
    const env = (name) => {
      const e = runEnv(name, policyFile, partitions);
      if (policyFile === undefined) delete e.VIGIL_POLICY_FILE;
      return e;
    };
    const one = env("scale-1");
    envs.push(one);
    const oneTopic = `${one.VIGIL_TOPIC_PREFIX}vigil.events`;
    await seed(oneTopic, messages, partitions);
    log(`scale-out: one processor over ${messages.length} events`);
    const single = startProcessor({ ...one, VIGIL_HTTP_PORT: String(await freePort()) });
    processes.push(single);
    await untilCommitted(one, oneTopic, messages.length, timeoutMs);
    await stopProcessor(single);

    // Several in one group, with kills and clean stops during the run.
    const many = { ...env("scale-n"), VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000" };
    envs.push(many);
    const manyTopic = `${many.VIGIL_TOPIC_PREFIX}vigil.events`;
    await seed(manyTopic, messages, partitions);
    log(`scale-out: ${instances} processors, ${kills} SIGKILL and ${kills} SIGTERM restarts`);
    const start = async () => startProcessor({ ...many, VIGIL_HTTP_PORT: String(await freePort()) });
    const running = [];
    for (let i = 0; i < instances; i++) running.push(await start());
    processes.push(...running);
    const disruptions = [];
    for (let i = 0; i < kills; i++)
      disruptions.push({ at: (2 * i + 1) / (2 * kills + 1), signal: "SIGKILL" }, { at: (2 * i + 2) / (2 * kills + 1), signal: "SIGTERM" });
    let victim = 0;
    let restarts = 0;
    await untilCommitted(many, manyTopic, messages.length, timeoutMs, async (fraction) => {
      while (disruptions.length > 0 && fraction >= disruptions[0].at) {
        const { signal } = disruptions.shift();
        const i = victim++ % running.length;
        const p = running[i];
        if (signal === "SIGKILL") {
          p.child.kill("SIGKILL");
          await new Promise((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r() : p.child.once("exit", r)));
        } else await stopProcessor(p);
        running[i] = await start();
        processes.push(running[i]);
        restarts++;
        log(`scale-out: ${signal} processor ${i} at ${Math.round(fraction * 100)} %, restarted`);
      }
    });
    await Promise.all(running.map(stopProcessor));

    const [oneCommands, manyCommands] = await Promise.all([
      readAll(`${one.VIGIL_TOPIC_PREFIX}vigil.commands`),
      readAll(`${many.VIGIL_TOPIC_PREFIX}vigil.commands`),
    ]);
    const [oneState, manyState] = await Promise.all([stateOf(redis, one.VIGIL_REDIS_PREFIX), stateOf(redis, many.VIGIL_REDIS_PREFIX)]);
    const commandDiff = sameMaps(commandsById(oneCommands), commandsById(manyCommands));
    const baselineDiff = sameMaps(oneState.baselines, manyState.baselines);
    const ledgerDiff = sameMaps(oneState.ledger, manyState.ledger, (x, y) => JSON.stringify(x) === JSON.stringify(y));
    const countDiff = sameMaps(oneState.counts, manyState.counts);
    return {
      instances,
      events: messages.length,
      restarts,
      commands: commandsById(oneCommands).size,
      baselines: oneState.baselines.size,
      ledgerKeys: oneState.ledger.size,
      commandsEqual: commandDiff.length === 0,
      baselinesEqual: baselineDiff.length === 0,
      ledgerEqual: ledgerDiff.length === 0,
      countsEqual: countDiff.length === 0,
      differ: { commands: commandDiff.slice(0, 5), baselines: baselineDiff.slice(0, 5), ledger: ledgerDiff.slice(0, 5), counts: countDiff.slice(0, 5) },
      ...(commandDiff.length > 0 ? { commandsDiffering: commandDiff.length } : {}),
      /** The baselines of the single run (key → parsed), for checks against the events' own counts. */
      single: oneState,
    };
  } finally {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await redis.quit();
    // Their topics and Redis keys go (what they held is in the returned comparison).
    await cleanup(envs).catch(() => undefined);
  }
}
