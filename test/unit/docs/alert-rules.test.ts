import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/alerts.yml is an example rule file for operators: it must only name metrics a node really
// registers, and aggregate per-queue series as every node reports every queue. The repo has no YAML
// parser, so the file is kept simple (one key per line, each expr on one line) and read line by line.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const METRICS_DIR = join(root, 'src/server/node');
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

interface Rule {
  readonly alert: string;
  readonly line: number;
  readonly fields: Map<string, string>;
}

/** The value of a one-line YAML scalar: plain, 'single-quoted' ('' for ') or "double-quoted" (no escapes used). */
function scalar(raw: string): string {
  const value = raw.trim();
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) return value.slice(1, -1).replaceAll("''", "'");
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) return value.slice(1, -1);
  return value;
}

/** The alerting rules of a rule file written as docs/alerts.yml is: `- alert:` starts one, its keys follow. */
function readAlertRules(text: string): Rule[] {
  const rules: Rule[] = [];
  let current: { alert: string; line: number; fields: Map<string, string> } | undefined;
  text.split('\n').forEach((line, index) => {
    const start = /^\s*- alert:\s*(.+)$/.exec(line);
    if (start !== null) {
      current = { alert: scalar(start[1] ?? ''), line: index + 1, fields: new Map() };
      rules.push(current);
      return;
    }
    if (/^\s*- (name|record):/.test(line)) {
      current = undefined;
      return;
    }
    const field = /^\s+(expr|for|severity|summary|description):(.*)$/.exec(line);
    if (field !== null && current !== undefined) current.fields.set(field[1] ?? '', scalar(field[2] ?? ''));
  });
  return rules;
}

/** Metric names the node registers: `name: 'quorumq_…'` and helpers called as `counter('quorumq_…'`. */
function registeredMetrics(): { names: Set<string>; histograms: Set<string> } {
  const names = new Set<string>();
  const histograms = new Set<string>();
  for (const file of readdirSync(METRICS_DIR).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(METRICS_DIR, file), 'utf8');
    for (const match of source.matchAll(/(?:\bname:\s*|\b[A-Za-z]+\(\s*)'(quorumq_[a-z_]+)'/g)) names.add(match[1] ?? '');
    for (const match of source.matchAll(/new Histogram\(\{\s*name:\s*'(quorumq_[a-z_]+)'/g)) histograms.add(match[1] ?? '');
  }
  return { names, histograms };
}

function isRegistered(metric: string, registered: { names: Set<string>; histograms: Set<string> }): boolean {
  if (registered.names.has(metric)) return true;
  return HISTOGRAM_SUFFIXES.some((suffix) => metric.endsWith(suffix) && registered.histograms.has(metric.slice(0, -suffix.length)));
}

/** The [start, end) spans of the arguments of each `max by (queue) (…)` in an expression. */
function maxByQueueSpans(expr: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const match of expr.matchAll(/max\s+by\s*\(\s*queue\s*\)\s*\(/g)) {
    const open = (match.index ?? 0) + match[0].length;
    let depth = 1;
    let at = open;
    for (; at < expr.length && depth > 0; at++) {
      if (expr[at] === '(') depth++;
      else if (expr[at] === ')') depth--;
    }
    spans.push([open, at]);
  }
  return spans;
}

/** Per-queue metrics (every node reports every queue) that an expression uses outside `max by (queue)`. */
function unaggregatedQueueMetrics(expr: string): string[] {
  const spans = maxByQueueSpans(expr);
  return [...expr.matchAll(/quorumq_queue_[a-z_]+/g)]
    .filter((match) => !spans.some(([from, to]) => (match.index ?? 0) >= from && (match.index ?? 0) < to))
    .map((match) => match[0]);
}

const text = readFileSync(join(root, 'docs/alerts.yml'), 'utf8');
const rules = readAlertRules(text);

describe('docs/alerts.yml', () => {
  it('is a rule file of groups with alerting rules', () => {
    expect(text).toMatch(/^groups:$/m);
    expect(text).not.toMatch(/\t/);
    expect(rules.length).toBeGreaterThan(5);
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
  });

  it('gives every alert a one-line expr, a for, a severity, a summary and a description', () => {
    for (const rule of rules) {
      const where = `${rule.alert} (line ${rule.line})`;
      const expr = rule.fields.get('expr') ?? '';
      expect(expr, `${where}: expr, on one line`).toMatch(/^[^|>\s]/);
      expect(rule.fields.get('for'), `${where}: for`).toMatch(/^\d+[smh]$/);
      expect(rule.fields.get('severity'), `${where}: severity`).toMatch(/^(critical|warning|info)$/);
      expect(rule.fields.get('summary') ?? '', `${where}: summary`).not.toBe('');
      expect(rule.fields.get('description') ?? '', `${where}: description`).not.toBe('');
    }
  });

  it('names only metrics that a node registers', () => {
    const registered = registeredMetrics();
    // The scan itself must find the metrics, or every check below would pass for nothing.
    for (const known of ['quorumq_raft_role', 'quorumq_recovering', 'quorumq_queue_dead_lettered_total', 'quorumq_cluster_version']) {
      expect(registered.names, known).toContain(known);
    }
    expect(registered.histograms).toContain('quorumq_log_write_duration_seconds');
    const unknown = rules.flatMap((rule) =>
      [...(rule.fields.get('expr') ?? '').matchAll(/quorumq_[a-z_]+/g)]
        .map((match) => match[0])
        .filter((metric) => !isRegistered(metric, registered))
        .map((metric) => `${rule.alert}: ${metric}`),
    );
    expect(unknown).toEqual([]);
  });

  it('aggregates every per-queue metric with max by (queue)', () => {
    const unaggregated = rules.flatMap((rule) => unaggregatedQueueMetrics(rule.fields.get('expr') ?? '').map((metric) => `${rule.alert}: ${metric}`));
    expect(unaggregated).toEqual([]);
  });

  it('finds per-queue metrics outside max by (queue)', () => {
    expect(unaggregatedQueueMetrics('max by (queue) (increase(quorumq_queue_acked_total[5m])) > 0')).toEqual([]);
    expect(unaggregatedQueueMetrics('sum by (queue) (quorumq_queue_messages) > 0')).toEqual(['quorumq_queue_messages']);
    expect(unaggregatedQueueMetrics('max by (queue) (quorumq_queue_messages) > quorumq_queue_expired_total')).toEqual(['quorumq_queue_expired_total']);
  });
});
