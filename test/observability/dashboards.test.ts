import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import client from "prom-client";
import { stringify, parse } from "yaml";
import { describe, expect, it } from "vitest";
import { promMetrics } from "../../src/adapters/prom-metrics.js";
import {
  allPanels,
  dashboardExpressions,
  dashboardFiles,
  loadDashboard,
  loadRules,
  referencedVariables,
  repoPath,
  ruleFiles,
  substitute,
} from "./promql-expressions.js";
import type { Dashboard, Panel } from "./promql-expressions.js";

// Static checks of the Grafana dashboards and the Prometheus alerting rules. Whether every
// query returns data against a live processor is prometheus.e2e.test.ts.

const datasource = { type: "object", required: ["type", "uid"], properties: { type: { const: "prometheus" }, uid: { const: "${datasource}" } } };

// The parts of Grafana's dashboard model that provisioning and rendering rely on.
const dashboardSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["uid", "title", "schemaVersion", "panels", "templating", "time"],
  properties: {
    uid: { type: "string", pattern: "^[A-Za-z0-9_-]{1,40}$" },
    title: { type: "string", minLength: 1 },
    schemaVersion: { const: 39 },
    tags: { type: "array", items: { type: "string" } },
    time: { type: "object", required: ["from", "to"], properties: { from: { type: "string" }, to: { type: "string" } } },
    refresh: { type: "string" },
    templating: {
      type: "object",
      required: ["list"],
      properties: {
        list: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "type"],
            properties: {
              name: { type: "string", pattern: "^\\w+$" },
              type: { enum: ["datasource", "query", "custom", "constant", "interval", "textbox", "adhoc"] },
            },
          },
        },
      },
    },
    panels: { type: "array", minItems: 1, items: { $ref: "#/$defs/panel" } },
  },
  $defs: {
    gridPos: {
      type: "object",
      required: ["h", "w", "x", "y"],
      properties: {
        h: { type: "integer", minimum: 1 },
        w: { type: "integer", minimum: 1, maximum: 24 },
        x: { type: "integer", minimum: 0, maximum: 23 },
        y: { type: "integer", minimum: 0 },
      },
    },
    panel: {
      type: "object",
      required: ["id", "type", "title", "gridPos"],
      properties: {
        id: { type: "integer", minimum: 1 },
        type: { enum: ["row", "timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text"] },
        title: { type: "string", minLength: 1 },
        gridPos: { $ref: "#/$defs/gridPos" },
        panels: { type: "array", items: { $ref: "#/$defs/panel" } },
      },
      if: { properties: { type: { const: "row" } } },
      then: { required: ["panels"], properties: { panels: { type: "array" } } },
      else: {
        required: ["datasource", "targets", "fieldConfig"],
        properties: {
          datasource,
          fieldConfig: {
            type: "object",
            required: ["defaults"],
            properties: {
              defaults: {
                type: "object",
                required: ["unit", "thresholds"],
                properties: {
                  unit: { enum: ["s", "percentunit", "short", "ops", "bytes", "none"] },
                  thresholds: {
                    type: "object",
                    required: ["mode", "steps"],
                    properties: {
                      mode: { enum: ["absolute", "percentage"] },
                      steps: {
                        type: "array",
                        minItems: 1,
                        items: { type: "object", required: ["color", "value"], properties: { color: { type: "string" }, value: { type: ["number", "null"] } } },
                      },
                    },
                  },
                },
              },
            },
          },
          targets: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              required: ["refId", "expr", "datasource"],
              properties: { refId: { type: "string", pattern: "^[A-Z]$" }, expr: { type: "string", minLength: 1, pattern: "\\S" }, datasource },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validateDashboard = ajv.compile(dashboardSchema);

const files = dashboardFiles();
const dashboards: [string, Dashboard][] = files.map((f) => [f, loadDashboard(f)]);
const queryPanels = (d: Dashboard): Panel[] => allPanels(d.panels).filter((p) => p.type !== "row");

const promtool = (args: string[]) => {
  const r = spawnSync("promtool", args, { encoding: "utf8" });
  if (r.error) throw new Error(`promtool is missing (${r.error.message}): apt-get install prometheus`);
  return r;
};

describe("Grafana dashboards", () => {
  it("ships the drift-alerts and pipeline-health dashboards", () => {
    expect(files).toEqual(["grafana/dashboards/vigil-drift-alerts.json", "grafana/dashboards/vigil-pipeline-health.json"]);
    expect(dashboards.map(([, d]) => d.title)).toEqual(["Vigil — Drift alerts", "Vigil — Pipeline health"]);
  });

  it.each(dashboards)("%s matches the dashboard schema", (_f, d) => {
    const ok = validateDashboard(d);
    expect(validateDashboard.errors ?? [], ajv.errorsText(validateDashboard.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("has unique dashboard uids", () => {
    const uids = dashboards.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards)("%s: unique panel ids, unique refIds per panel, non-empty expr", (_f, d) => {
    const ids = allPanels(d.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels(d)) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(typeof t.refId === "string" && t.refId.length > 0, `${p.title}: refId`).toBe(true);
        expect(typeof t.expr === "string" && t.expr.trim().length > 0, `${p.title}: expr`).toBe(true);
      }
    }
  });

  it.each(dashboards)("%s: panels stay inside the 24-column grid and do not overlap", (_f, d) => {
    const boxes = allPanels(d.panels).map((p) => ({ title: p.title, ...(p.gridPos as { h: number; w: number; x: number; y: number }) }));
    for (const b of boxes) expect(b.x + b.w, b.title).toBeLessThanOrEqual(24);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it.each(dashboards)("%s: every referenced template variable is defined; multi-value variables match `.*` for All", (_f, d) => {
    const defined = new Set((d.templating?.list ?? []).map((v) => v.name));
    expect(defined.has("datasource")).toBe(true);
    const used = referencedVariables(JSON.stringify(d)).filter((n) => !n.startsWith("__"));
    expect([...new Set(used)].filter((n) => !defined.has(n))).toEqual([]);
    for (const v of d.templating?.list ?? []) {
      if (v.type === "datasource") expect(v.query).toBe("prometheus");
      if (v.includeAll) expect(v.allValue, v.name).toBe(".*");
    }
  });

  it.each(dashboards)("%s: label variables appear only in =~ matchers; range windows use $__rate_interval or $__range", (_f, d) => {
    for (const p of queryPanels(d)) {
      for (const t of p.targets ?? []) {
        const expr = t.expr as string;
        const outsideMatchers = expr.replace(/=~"\$\w+"/g, "");
        expect(
          referencedVariables(outsideMatchers).filter((n) => !n.startsWith("__")),
          `${p.title}: ${expr}`,
        ).toEqual([]);
        for (const m of expr.matchAll(/\[([^\]]*)\]/g)) expect(["$__rate_interval", "$__range"], `${p.title}: ${expr}`).toContain(m[1]);
      }
    }
  });

  it("every panel refers to metrics the processor exports", async () => {
    const registry = new client.Registry();
    promMetrics(registry);
    const exported = new Set<string>(["up"]);
    for (const m of await registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m.name + s);
    }
    const unknown = dashboardExpressions()
      .flatMap((e) => [...e.expr.matchAll(/\b(vigil_\w+|up)\b/g)].map((m) => `${m[1]} (${e.title})`))
      .filter((s) => !exported.has(s.split(" ")[0] as string));
    expect(unknown).toEqual([]);
    registry.clear();
  });
});

describe("PromQL expressions", () => {
  it("substitutes Grafana variables with values usable against Prometheus", () => {
    expect(substitute('sum by (reason) (increase(vigil_commands_total{type=~"$type", reason=~"${reason}"}[$__rate_interval]))')).toBe(
      'sum by (reason) (increase(vigil_commands_total{type=~".*", reason=~".*"}[1m]))',
    );
    expect(substitute("sum(increase(x[$__range])) + sum(rate(x[${__interval}]))")).toBe("sum(increase(x[5m])) + sum(rate(x[30s]))");
    expect(() => substitute('x{reason="$reason"}')).toThrow(/=~/);
  });

  it("lists every panel query and every alert, without a leftover variable", () => {
    const all = dashboardExpressions();
    const panels = all.filter((e) => e.kind === "panel");
    const alerts = all.filter((e) => e.kind === "alert");
    expect(panels.length).toBe(dashboards.flatMap(([, d]) => queryPanels(d).flatMap((p) => p.targets ?? [])).length);
    expect(alerts.length).toBe(ruleFiles().flatMap(loadRules).length);
    expect(all.filter((e) => e.expr.includes("$") || e.expr.includes("[["))).toEqual([]);
  });

  it("every substituted dashboard expression parses (promtool, as recording rules)", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-promql-"));
    try {
      const file = join(dir, "panels.yml");
      const rules = dashboardExpressions()
        .filter((e) => e.kind === "panel")
        .map((e, i) => ({ record: `vigil_dashboard:check:${i}`, expr: e.expr }));
      writeFileSync(file, stringify({ groups: [{ name: "dashboard-expressions", rules }] }));
      const r = promtool(["check", "rules", file]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Prometheus alerting rules", () => {
  it("pass promtool check rules", () => {
    for (const file of ruleFiles()) {
      const r = promtool(["check", "rules", repoPath(file)]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it("each alert has an expression, a duration, a severity, a summary and a description", () => {
    const rules = ruleFiles().flatMap(loadRules);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Vigil\w+$/);
      expect(r.expr?.trim(), r.alert).toBeTruthy();
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
    for (const name of [
      "VigilProcessorDown",
      "VigilConsumerLagHigh",
      "VigilDeadLetterRateHigh",
      "VigilTimeToEnforceSLOBreach",
      "VigilProcessingStalled",
      "VigilPolicyReloadRejected",
      "VigilRedisLatencyHigh",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("are loaded by prometheus/prometheus.yml (promtool check config) and mounted by docker-compose.yml", () => {
    const config = parse(readFileSync(repoPath("prometheus/prometheus.yml"), "utf8")) as { rule_files?: string[] };
    expect(config.rule_files).toContain("rules/*.yml");
    const r = promtool(["check", "config", repoPath("prometheus/prometheus.yml")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const compose = parse(readFileSync(repoPath("docker-compose.yml"), "utf8")) as { services: { prometheus: { volumes: string[] } } };
    expect(compose.services.prometheus.volumes).toContain("./prometheus/rules:/etc/prometheus/rules:ro");
  });
});
