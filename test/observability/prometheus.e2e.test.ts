import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync, readdirSync } from "node:fs";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startVigil } from "../../src/main.js";
import type { Running } from "../../src/main.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { createEnforcer } from "../../src/sdk/enforcer.js";
import type { Enforcer } from "../../src/sdk/enforcer.js";
import { createPublisher, toolOutput } from "../../src/sdk/publisher.js";
import type { Publisher } from "../../src/sdk/publisher.js";
import { brokers, repoRoot } from "../support/stack-env.js";
import { freePort, isolatedEnv, produce, trustedKeys } from "../support/live.js";
import { dashboardExpressions } from "./promql-expressions.js";

// Every panel proven to show data: a real Prometheus (Debian's package) scrapes a live
// processor fed with the golden scenarios through both SDKs (so time-to-enforce has
// acknowledgements), background reads with their tool results, plus a dead-lettered message; then every PromQL expression of the
// dashboards and the alerting rules runs through Prometheus' HTTP API. A query error
// fails; a panel query without series fails.

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

let running: Running | undefined;
let prometheus: ChildProcess | undefined;
let publisher: Publisher | undefined;
let enforcer: Enforcer | undefined;
let promUrl = "";

const query = async (expr: string): Promise<QueryResult> =>
  (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as Promise<QueryResult>;

beforeAll(async () => {
  expect(spawnSync("prometheus", ["--version"]).status, "prometheus is missing: apt-get install prometheus").toBe(0);
  const env = isolatedEnv("prom", { VIGIL_LOG_LEVEL: "error" });
  const config = loadConfig(env);
  running = await startVigil(env);
  enforcer = await createEnforcer({ brokers, topicPrefix: env.VIGIL_TOPIC_PREFIX, enforcerId: "prom-test", verify: await trustedKeys(env) });
  await enforcer.start();
  publisher = await createPublisher({ brokers, topic: config.topics.events });
  const dir = join(repoRoot, "examples", "scenarios");
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".jsonl"))
    .sort()) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean)) await publisher.publish(JSON.parse(line) as AgentEvent);
  }
  await produce(config.topics.events, [{ key: "bad", value: "{not json" }]);

  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), "vigil-prom-"));
  const configFile = join(work, "prometheus.yml");
  // The repo's own configuration, pointed at this processor: same jobs, rules and labels;
  // only the target address, the rules path and the intervals (1 s, to be quick) change.
  const repoConfig = parse(readFileSync(join(repoRoot, "prometheus", "prometheus.yml"), "utf8")) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  repoConfig.global = { ...repoConfig.global, scrape_interval: "1s", evaluation_interval: "1s" };
  repoConfig.rule_files = repoConfig.rule_files.map((r) => join(repoRoot, "prometheus", r));
  const vigilJob = repoConfig.scrape_configs.find((j) => j.job_name === "vigil");
  expect(vigilJob, "prometheus/prometheus.yml has a `vigil` job").toBeDefined();
  for (const sc of vigilJob?.static_configs ?? []) sc.targets = [`127.0.0.1:${running.httpPort}`];
  repoConfig.scrape_configs = repoConfig.scrape_configs.filter((j) => j.job_name !== "prometheus");
  writeFileSync(configFile, stringify(repoConfig));
  prometheus = spawn("prometheus", [`--config.file=${configFile}`, `--storage.tsdb.path=${join(work, "data")}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: "ignore",
  });
  promUrl = `http://127.0.0.1:${port}`;
  // Keep traffic flowing while Prometheus collects enough samples for rate() windows.
  const deadline = Date.now() + 60_000;
  let n = 0;
  while (Date.now() < deadline) {
    const bg = { sessionId: `bg-${n % 3}`, agent: { id: "bg" }, principal: { id: "bg-user" } };
    const read = await publisher.action({ ...bg, action: { capability: "wiki.read", kind: "read" } }).catch(() => undefined);
    // Tool results for the tool-result panels: every other one cut by the gateway.
    if (read)
      await publisher
        .actionResult({
          ...bg,
          actionEventId: read.eventId,
          outcome: "success",
          output: toolOutput("Wiki page text. ".repeat(50), { maxText: n % 2 === 0 ? 200 : 4096 }),
          source: { trust: n % 2 === 0 ? "untrusted" : "trusted" },
        })
        .catch(() => undefined);
    n++;
    await new Promise((r) => setTimeout(r, 250));
    const up = await query('up{job="vigil"}').catch(() => undefined);
    const samples = await query('count_over_time(up{job="vigil"}[1m])').catch(() => undefined);
    const count = Number((samples?.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
    if (up?.data?.result.length && count >= 15) break;
  }
}, 180_000);

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  await publisher?.close();
  await enforcer?.stop();
  await running?.stop();
});

describe("dashboards and alerting rules against a real Prometheus scraping a live processor", () => {
  it("scrapes the processor", async () => {
    const r = await query('up{job="vigil"} == 1');
    expect(r.data?.result).toHaveLength(1);
  });

  it("has loaded the alerting rules, all healthy", async () => {
    const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = r.data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(3);
    expect(rules.filter((x) => x.health !== "ok" && x.health !== "unknown")).toEqual([]);
  });

  it("runs every dashboard and alert expression without error; every panel query returns series", async () => {
    const expressions = dashboardExpressions();
    expect(expressions.filter((e) => e.kind === "panel").length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const e of expressions) {
      const r = await query(e.expr);
      if (r.status !== "success") failures.push(`${e.source} «${e.title}»: error ${r.error} in ${e.expr}`);
      else if (e.kind === "panel" && (r.data?.result.length ?? 0) === 0) failures.push(`${e.source} «${e.title}»: no series for ${e.expr}`);
    }
    expect(failures).toEqual([]);
  });
});
