import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

// Every PromQL expression of the Grafana dashboards (grafana/dashboards/*.json) and the
// Prometheus alerting rules (prometheus/rules/*.yml), with Grafana's template variables
// replaced by concrete values so that each can be sent to Prometheus' HTTP API as is.

export interface PromqlExpression {
  source: string;
  title: string;
  expr: string;
  kind: "panel" | "alert";
}

export const repoPath = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

export const dashboardsDir = "grafana/dashboards";
export const rulesDir = "prometheus/rules";

export interface Target {
  refId?: string;
  expr?: string;
  [key: string]: unknown;
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
  [key: string]: unknown;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; [key: string]: unknown }[] };
  [key: string]: unknown;
}

export interface Rule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const dashboardFiles = (): string[] =>
  readdirSync(repoPath(dashboardsDir))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => `${dashboardsDir}/${f}`);

export const ruleFiles = (): string[] =>
  readdirSync(repoPath(rulesDir))
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => `${rulesDir}/${f}`);

export const loadDashboard = (file: string): Dashboard => JSON.parse(readFileSync(repoPath(file), "utf8")) as Dashboard;

export const loadRules = (file: string): Rule[] => {
  const doc = parse(readFileSync(repoPath(file), "utf8")) as { groups?: { rules?: Rule[] }[] } | null;
  return (doc?.groups ?? []).flatMap((g) => g.rules ?? []);
};

/** Panels, including those nested in (collapsed) rows. */
export const allPanels = (panels: Panel[] = []): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** Grafana's built-in interval variables, as a Prometheus instant query would see them. */
export const builtins: Record<string, string> = { __rate_interval: "1m", __interval: "30s", __range: "5m" };

const variableRef = /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]/g;

/** Names of the template variables an expression (or any string) refers to. */
export const referencedVariables = (text: string): string[] => [...text.matchAll(variableRef)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);

/**
 * Replaces Grafana variables with concrete values: interval built-ins with fixed durations,
 * dashboard variables (only supported inside a `=~"..."` matcher, where "All" is `.*`) with `.*`.
 */
export const substitute = (expr: string): string => {
  const matchers = expr.replace(/=~\s*"(?:\$\{\w+(?::\w+)?\}|\$\w+|\[\[\w+(?::\w+)?\]\])"/g, (m) => {
    const name = referencedVariables(m)[0] as string;
    if (name.startsWith("__")) throw new Error(`built-in variable $${name} used as a regex matcher in: ${expr}`);
    return '=~".*"';
  });
  return matchers.replace(variableRef, (m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const value = builtins[name];
    if (value === undefined) throw new Error(`variable ${m} is neither a Grafana interval nor inside a =~ matcher in: ${expr}`);
    return value;
  });
};

export function dashboardExpressions(): PromqlExpression[] {
  const out: PromqlExpression[] = [];
  for (const source of dashboardFiles()) {
    for (const panel of allPanels(loadDashboard(source).panels)) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr !== "string") continue;
        out.push({ source, title: `${panel.title ?? `panel ${panel.id}`} [${target.refId ?? "?"}]`, expr: substitute(target.expr), kind: "panel" });
      }
    }
  }
  for (const source of ruleFiles()) {
    for (const rule of loadRules(source)) {
      if (typeof rule.expr !== "string") continue;
      out.push({ source, title: rule.alert ?? rule.record ?? "rule", expr: rule.expr.trim(), kind: "alert" });
    }
  }
  return out;
}
