import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { cliPath } from "../support/processes.js";
import { brokers, redisUrl, uniqueName } from "../support/stack-env.js";

// The README's main command, headless and time-limited: the expense story must end with the
// self-approval downgraded and the session held for review, and the demo must exit cleanly.
// Each run stands alone: on shared topics and keys its evidence is its own and it leaves no
// review case behind; --isolated leaves no topic and no Redis key; a busy port is one line.

const cli = cliPath;
const keyDir = mkdtempSync(join(tmpdir(), "vigil-demo-"));
const stackEnv = {
  VIGIL_KAFKA_BROKERS: brokers.join(","),
  VIGIL_REDIS_URL: redisUrl,
  VIGIL_HTTP_PORT: "0",
  VIGIL_SIGNING_KEY_FILE: join(keyDir, "signing-key.jwk"),
};
const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups) await c().catch(() => undefined);
  redis.disconnect();
  await admin.disconnect();
});

/** Runs the demo to its end (at most `limitMs`, then it is killed): its exit code (null when killed) and everything it printed. */
async function demo(args: string[], env: Record<string, string> = {}, limitMs = 100_000): Promise<{ code: number | null; out: string; stdout: string }> {
  const child: ChildProcess = spawn(process.execPath, [cli, "demo", ...args], {
    env: { ...process.env, ...stackEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => ((out += d.toString()), (stdout += d.toString())));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const code = await exited;
  clearTimeout(killer);
  return { code, out, stdout };
}

const keysUnder = async (prefix: string): Promise<string[]> => {
  await redis.connect().catch(() => undefined);
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
};

const topicsUnder = async (prefix: string): Promise<string[]> => {
  await admin.connect();
  return (await admin.listTopics()).filter((t) => t.startsWith(prefix));
};

const groupsStarting = async (prefixes: string[]): Promise<string[]> => {
  await admin.connect();
  return (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => prefixes.some((p) => g.startsWith(p)));
};

/** Topics, groups and keys of a shared-topics run under `id` (the demo leaves those by design). */
const removeShared = (id: string) => async () => {
  const topics = await topicsUnder(`${id}.`);
  if (topics.length > 0) await admin.deleteTopics({ topics });
  // A group whose member has just gone is deletable once the broker has noticed (its session timeout).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(id));
    if (groups.length === 0) break;
    await admin.deleteGroups(groups).catch(() => undefined);
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const keys = await keysUnder(`${id}:`);
  if (keys.length > 0) await redis.del(...keys);
};

describe("vigil demo", () => {
  it(
    "plays the expense story through both SDKs: the self-approval is denied at the gateway and downgraded pending review; exits 0, leaving no topic and no Redis key",
    { timeout: 120_000 },
    async () => {
      const { code, out } = await demo(["--for", "20", "--pace", "30", "--isolated"]);
      expect(out).toMatch(/COMMAND DOWNGRADE exp-1-\w+ removed expense\.approve — sod\.self_approval: .*\[pending review\]/);
      expect(out).toMatch(/COMMAND DOWNGRADE exp-2-\w+ removed expense\.approve/);
      expect(out).toMatch(/COMMAND REVOKE code-1-\w+/);
      // The command line may be printed before or after the gateway's verdict (two consumers).
      expect(out).toMatch(
        /\[exp-1-\w+\] calls expense\.approve on ER-1042-\w+\n(?: {2}⇒ COMMAND[^\n]*\n)?\s+DENIED {2}by the gateway: capability expense\.approve removed/,
      );
      expect(out).toMatch(/\[exp-3-\w+\] calls expense\.approve on ER-1042-\w+\n\s+ALLOWED by the gateway/);
      // After the story, a reviewer overturns the first hold through the review API: a restore, and the gateway allows again.
      expect(out).toMatch(/REVIEW {2}demo-reviewer overturns case case_\w+ for exp-1-\w+ through the review API/);
      expect(out).toMatch(/ALLOWED by the gateway again: expense\.approve on ER-1042-\w+ for exp-1-\w+/);
      expect(out).toMatch(/COMMAND RESTORE exp-1-\w+ — review\.overturned/);
      // The MCP scene: a real MCP client and filesystem server through vigil mcp; the injected write is denied and never runs.
      expect(out).toMatch(/tools\/call read_text_file notes\.txt → ran/);
      expect(out).toMatch(/tools\/call write_file payload\.sh → Vigil held this call to write_file: capability write_file removed\. It was not run\./);
      expect(out).toContain("payload.sh was never written: the server never saw the call");
      expect(out).toMatch(/COMMAND DOWNGRADE mcp-demo-\w+ removed write_file — intent\.instructed_value/);
      expect(out).toMatch(/stopping: 10 commands seen, [1-9]\d* background actions/);
      // An isolated run leaves no topics behind, and no Redis key under its prefix (vigil-demo-<run>:).
      const run = /topics demo-(\d+)\.\*/.exec(out)?.[1];
      expect(run).toBeDefined();
      expect(await topicsUnder(`demo-${run}.`)).toEqual([]);
      expect(await keysUnder(`vigil-demo-${run}:`)).toEqual([]);
      const tag = /this run's sessions and resources end in -(\w+)/.exec(out)?.[1] as string;
      expect(await groupsStarting([`vigil-demo-${run}`, `demo-gateway-${tag}-`])).toEqual([]);
      expect(code).toBe(0);
    },
  );

  it("ends cleanly on Ctrl-C (SIGINT) in the middle of the story", { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, [cli, "demo", "--pace", "30", "--isolated"], {
      env: { ...process.env, ...stackEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const deadline = Date.now() + 60_000;
    while (!/COMMAND DOWNGRADE exp-2/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("COMMAND DOWNGRADE exp-2");
    expect(out).toMatch(/stopping: \d+ commands seen/);
    // Stopped in the middle, it still cleans up all of it.
    const run = /topics demo-(\d+)\.\*/.exec(out)?.[1];
    expect(run).toBeDefined();
    expect(await topicsUnder(`demo-${run}.`)).toEqual([]);
    expect(await keysUnder(`vigil-demo-${run}:`)).toEqual([]);
  });

  it(
    "two runs on the same topics and keys stand alone: each cites its own sessions as evidence, decides as the other, and leaves no review case nor unread event",
    { timeout: 240_000 },
    async () => {
      // The standard topics, group and prefix as a user would set them, but under names of this test's own.
      const id = uniqueName("demo-shared");
      cleanups.push(removeShared(id));
      const env = { VIGIL_TOPIC_PREFIX: `${id}.`, VIGIL_REDIS_PREFIX: `${id}:`, VIGIL_GROUP_ID: id };
      const runs: { tag: string; out: string }[] = [];
      for (let i = 0; i < 2; i++) {
        const { code, out } = await demo(["--for", "25", "--pace", "30"], env);
        expect(code, out).toBe(0);
        const tag = /this run's sessions and resources end in -(\w+)/.exec(out)?.[1] as string;
        expect(tag).toBeDefined();
        runs.push({ tag, out });
      }
      const [first, second] = runs as [{ tag: string; out: string }, { tag: string; out: string }];
      expect(second.tag).not.toBe(first.tag);
      const commands = (r: { tag: string; out: string }) =>
        r.out
          .split("\n")
          .filter((l) => l.includes("⇒ COMMAND"))
          .map((l) => l.replaceAll(r.tag, "<run>").replace(/case_\w+/g, "<case>"))
          .sort();
      for (const r of runs) {
        // The self-approval's evidence is this run's own submit, on this run's report.
        expect(r.out).toContain(
          `COMMAND DOWNGRADE exp-1-${r.tag} removed expense.approve — sod.self_approval: maker-checker-submit: principal alice already did expense.submit on ER-1042-${r.tag} in this session`,
        );
        expect(r.out).toContain(
          `COMMAND DOWNGRADE exp-2-${r.tag} removed expense.approve — sod.self_approval: maker-checker-submit: principal alice already did expense.submit on ER-1042-${r.tag} in session exp-1-${r.tag} (agent assistant-7)`,
        );
        expect(r.out).toMatch(/stopping: 10 commands seen/);
      }
      expect(second.out).not.toContain(`-${first.tag}`);
      // The second run decides exactly as the first: nothing the first left changes its decisions.
      expect(commands(second)).toEqual(commands(first));
      // Neither run leaves a review case (pending or decided) in the queue.
      expect(await redis.zrange(`${id}:cases:pending`, "0", "-1")).toEqual([]);
      expect(await redis.zrange(`${id}:cases:decided`, "0", "-1")).toEqual([]);
      expect(await keysUnder(`${id}:case:`)).toEqual([]);
      // Nor the gateway's consumer group.
      expect(await groupsStarting(runs.map((r) => `demo-gateway-${r.tag}-`))).toEqual([]);
      // Every event the runs published was decided before they stopped: none waits for the next processor on these topics.
      const ends = await admin.fetchTopicOffsets(`${id}.vigil.events`);
      const committed = (await admin.fetchOffsets({ groupId: id, topics: [`${id}.vigil.events`] }))[0]?.partitions ?? [];
      for (const p of ends) expect(committed.find((c) => c.partition === p.partition)?.offset, `partition ${p.partition}`).toBe(p.high);
    },
  );

  it("a busy HTTP port is one line and exit 1, leaving no topic and no key (isolated or not)", { timeout: 150_000 }, async () => {
    const busy: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => resolve(s));
    });
    const port = String((busy.address() as { port: number }).port);
    const oneLine = new RegExp(`^vigil: cannot listen on 127\\.0\\.0\\.1:${port} \\(VIGIL_HTTP_HOST, VIGIL_HTTP_PORT\\): the port is in use\\n$`);
    try {
      // --isolated: its prefixes are demo-<run>. and vigil-demo-<run>:, <run> the start time in ms.
      const started = Date.now();
      const isolated = await demo(["--for", "10", "--isolated"], { VIGIL_HTTP_PORT: port }, 60_000);
      const finished = Date.now();
      expect(isolated.code, isolated.out).toBe(1);
      expect(isolated.out).toMatch(oneLine);
      expect(finished - started).toBeLessThan(30_000);
      const ran = (name: string) => {
        const run = Number(/demo-(\d+)[.:]/.exec(name)?.[1]);
        return run >= started && run <= finished;
      };
      expect((await topicsUnder("demo-")).filter(ran)).toEqual([]);
      expect((await keysUnder("vigil-demo-")).filter(ran)).toEqual([]);
      // On shared topics (here under a name of this test's own).
      const id = uniqueName("demo-busy");
      cleanups.push(removeShared(id));
      const shared = await demo(
        ["--for", "10"],
        { VIGIL_HTTP_PORT: port, VIGIL_TOPIC_PREFIX: `${id}.`, VIGIL_REDIS_PREFIX: `${id}:`, VIGIL_GROUP_ID: id },
        60_000,
      );
      expect(shared.code, shared.out).toBe(1);
      expect(shared.out).toMatch(oneLine);
      expect(await topicsUnder(`${id}.`)).toEqual([]);
      expect(await keysUnder(`${id}:`)).toEqual([]);
      // vigil start too: one line, and it exits (its topics are the processor's own, so they stay).
      const start = spawn(process.execPath, [cli, "start"], {
        env: {
          ...process.env,
          ...stackEnv,
          VIGIL_HTTP_PORT: port,
          VIGIL_TOPIC_PREFIX: `${id}.`,
          VIGIL_REDIS_PREFIX: `${id}:`,
          VIGIL_GROUP_ID: id,
          VIGIL_LOG_LEVEL: "silent",
          VIGIL_KAFKA_SESSION_TIMEOUT_MS: "6000",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      start.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const killer = setTimeout(() => start.kill("SIGKILL"), 60_000);
      const code = await new Promise<number | null>((resolve) => start.once("exit", resolve));
      clearTimeout(killer);
      expect(code, err).toBe(1);
      expect(err).toMatch(oneLine);
    } finally {
      busy.close();
    }
  });
});
