// docs/grafana-dashboard.json cannot drift from what sluice exports: every query of every panel
// and variable is parsed, and each metric it names must be a series a real sluice (started as
// main.ts wires it, with one service) serves on /metrics, each label it groups, matches or shows
// by must be a label of those series, and each function it calls must be a PromQL function.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { freePort } from '../support/ports.js';
import { predictBody } from './harness.js';

const DASHBOARD_PATH = new URL('../../docs/grafana-dashboard.json', import.meta.url);

const PROMQL_FUNCTIONS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'topk', 'bottomk', 'quantile',
  'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'clamp_min', 'clamp_max', 'abs', 'vector', 'time',
  'label_values', // Grafana's variable query
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

interface Query {
  where: string;
  expr: string;
  legend?: string;
}

interface ParsedQuery {
  metrics: string[];
  functions: string[];
  /** Labels in matchers, `by`/`without`/`on`/`ignoring` lists and label_values(). */
  labels: string[];
  /** The labels left after the outermost aggregation (`by` list), when there is one. */
  groupedBy: string[] | undefined;
}

/** Every query in the dashboard: panel targets (rows included) and variable queries. */
function queriesOf(dashboard: any): Query[] {
  const queries: Query[] = [];
  const visit = (panels: any[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) queries.push({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr, legend: target.legendFormat });
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    queries.push({ where: `variable ${variable.name}`, expr: typeof variable.query === 'string' ? variable.query : variable.query.query });
  }
  return queries;
}

/** A small PromQL reader: enough to find every metric, function and label a query uses. */
function parseQuery(expr: string): ParsedQuery {
  const labels: string[] = [];
  let groupedBy: string[] | undefined;
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_m, matchers: string) => {
    for (const match of matchers.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(match[1]!);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, keyword: string, list: string) => {
    const names = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
    labels.push(...names);
    if (keyword === 'by' && groupedBy === undefined) groupedBy = names;
    return ' ';
  });
  rest = rest.replace(/\blabel_values\s*\(\s*([a-zA-Z_:][\w:]*)\s*,\s*([a-zA-Z_]\w*)\s*\)/g, (_m, metric: string, label: string) => {
    labels.push(label);
    return ` label_values( ${metric} ) `;
  });
  const metrics: string[] = [];
  const functions: string[] = [];
  for (const match of rest.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call) functions.push(name!);
    else if (!KEYWORDS.has(name!)) metrics.push(name!);
  }
  return { metrics, functions, labels, groupedBy };
}

/** Each series name a /metrics answer carries, with the label names it has. */
function exportedSeries(text: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!match) continue;
    const labels = series.get(match[1]!) ?? new Set<string>();
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(label[1]!);
    series.set(match[1]!, labels);
  }
  return series;
}

let sluice: RunningSluice;
let stateDir: string;
let exported: Map<string, Set<string>>;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sluice-dashboard-'));
  sluice = await startSluice(
    {
      ...DEFAULT_CONFIG,
      xdsHost: '127.0.0.1',
      xdsPort: await freePort(),
      adminHost: '127.0.0.1',
      adminPort: 0,
      listenerPort: await freePort(),
      statePath: join(stateDir, 'sluice.db'),
      logLevel: 'warn',
    },
    pino({ level: 'silent' }),
  );
  // One service, so that the series labelled by service and version have samples.
  const put = await fetch(`${sluice.adminUrl}/v1/services/predict`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(predictBody()),
  });
  expect(put.status).toBe(200);
  const scrape = await fetch(`${sluice.adminUrl}/metrics`);
  expect(scrape.status).toBe(200);
  exported = exportedSeries(await scrape.text());
});

afterAll(async () => {
  await sluice?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

/** What is wrong with one query against the exported series; empty when nothing is. */
function problemsOf(query: Query): string[] {
  const parsed = parseQuery(query.expr);
  const problems: string[] = [];
  if (parsed.metrics.length === 0) problems.push('names no metric');
  const known = new Set<string>();
  for (const metric of parsed.metrics) {
    const labels = exported.get(metric);
    if (labels === undefined) problems.push(`${metric} is not exported`);
    else for (const label of labels) known.add(label);
  }
  for (const fn of parsed.functions) if (!PROMQL_FUNCTIONS.has(fn)) problems.push(`${fn}() is not a PromQL function`);
  for (const label of parsed.labels) if (!known.has(label)) problems.push(`label ${label} is on none of ${parsed.metrics.join(', ')}`);
  const shown = parsed.groupedBy ?? [...known];
  for (const [, label] of (query.legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    if (!shown.includes(label!)) problems.push(`the legend shows ${label}, which the result does not have`);
  }
  return problems.map((problem) => `${query.where}: ${problem} (${query.expr})`);
}

describe('docs/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8'));

  it('is a dashboard with the traffic and control-plane panels, each with its queries', () => {
    expect(dashboard.title).toBe('sluice');
    const titles: string[] = dashboard.panels.filter((p: any) => p.type !== 'row').map((p: any) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Weight per version', 'Requests/s per version', 'Error rate per version', 'Proxies connected', 'Convergence']));
    for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('queries only metrics and labels sluice exports', () => {
    const queries = queriesOf(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    expect(queries.flatMap(problemsOf)).toEqual([]);
    // The panels that chart traffic per version use the per-version series.
    const used = new Set(queries.flatMap((query) => parseQuery(query.expr).metrics));
    for (const metric of ['sluice_service_weight', 'sluice_version_requests_total', 'sluice_version_errors_total', 'sluice_xds_connected_proxies', 'sluice_convergence_seconds_bucket']) {
      expect(used).toContain(metric);
    }
  });

  it('would notice a metric, label or function that sluice does not export', () => {
    const problems = [
      'sum by (service) (rate(sluice_version_request_total[5m]))',
      'sum by (cluster) (rate(sluice_version_requests_total{service="a"}[$__rate_interval]))',
      'max(sluice_service_weight{shard=~"$service"})',
      'envoy_cluster_upstream_rq_time_bucket',
      'rated(sluice_xds_acks_total[5m])',
      '1 + 1',
    ].flatMap((expr) => problemsOf({ where: 'test', expr }));
    expect(problems).toEqual([
      'test: sluice_version_request_total is not exported (sum by (service) (rate(sluice_version_request_total[5m])))',
      'test: label service is on none of sluice_version_request_total (sum by (service) (rate(sluice_version_request_total[5m])))',
      'test: label cluster is on none of sluice_version_requests_total (sum by (cluster) (rate(sluice_version_requests_total{service="a"}[$__rate_interval])))',
      'test: label shard is on none of sluice_service_weight (max(sluice_service_weight{shard=~"$service"}))',
      'test: envoy_cluster_upstream_rq_time_bucket is not exported (envoy_cluster_upstream_rq_time_bucket)',
      'test: rated() is not a PromQL function (rated(sluice_xds_acks_total[5m]))',
      'test: names no metric (1 + 1)',
    ]);
    expect(problemsOf({ where: 'test', expr: 'sum by (version) (sluice_service_weight)', legend: '{{service}}' })).toEqual([
      'test: the legend shows service, which the result does not have (sum by (version) (sluice_service_weight))',
    ]);
  });
});
