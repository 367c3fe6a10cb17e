// The benchmark suite: npm run bench -- w1|w2|w3|floors|all [--runs 3] [--secure]
// --secure: every cluster runs with a cluster key, an auth file and TLS (throwaway files in its temp
// folder), and the clients use the CA and the admin token (the floors have no cluster: unchanged).
// --security key,auth,tls: only those of the three, to find which one costs what.
// Each run of each workload starts its own fresh 3-node cluster (free ports, temp folder) and
// stops it by PID afterwards, also on failure, timeout or Ctrl-C. Prints progress while it runs,
// then a table of medians over the runs, and writes every run's figures with the commit, the
// machine and the settings to bench-results/<timestamp>.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { floors } from './floors.ts';
import { BenchRun, type Figures, type Security, stopEverythingOnSignal, type Workload } from './harness.ts';
import { w1 } from './w1-throughput.ts';
import { w2 } from './w2-latency.ts';
import { w3 } from './w3-failover.ts';

const WORKLOADS: readonly Workload[] = [floors, w1, w2, w3];
const USAGE = 'usage: npm run bench -- w1|w2|w3|floors|all [--runs N] [--secure | --security key,auth,tls]';
const SECURITY_PARTS = ['key', 'auth', 'tls'] as const;

interface RunRecord {
  readonly workload: string;
  readonly run: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly figures: Figures;
  readonly details: Record<string, unknown>;
  readonly error?: string;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '1' }, secure: { type: 'boolean', default: false }, security: { type: 'string' } },
});
const runs = Number(values.runs);
const securityParts = values.secure === true ? [...SECURITY_PARTS] : (values.security ?? '').split(',').filter((part) => part !== '');
const security: Security = { clusterKey: securityParts.includes('key'), auth: securityParts.includes('auth'), tls: securityParts.includes('tls') };
const secure = securityParts.length > 0;
const securityLabel = securityParts.length === SECURITY_PARTS.length ? 'cluster key, auth and TLS' : securityParts.join(', ');
const choice = positionals[0];
const selected = choice === 'all' ? WORKLOADS : WORKLOADS.filter((workload) => workload.name === choice);
const badPart = securityParts.some((part) => !(SECURITY_PARTS as readonly string[]).includes(part));
if (positionals.length !== 1 || selected.length === 0 || !Number.isInteger(runs) || runs < 1 || badPart) {
  console.error(USAGE);
  process.exit(2);
}

stopEverythingOnSignal();
const startedAt = new Date();
const commit = git(['rev-parse', 'HEAD']);
const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryMb: Math.round(totalmem() / 1048576),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  loadAverageAtStart: loadavg(),
};
console.error(
  `quorumq bench: ${selected.map((workload) => workload.name).join(', ')} × ${runs} run(s)${secure ? `, secure (${securityLabel})` : ''} at ${commit.slice(0, 12)}${dirty ? ' (uncommitted changes)' : ''}`,
);
console.error(
  `machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.memoryMb} MB, node ${machine.node}; load average ${formatLoad(machine.loadAverageAtStart)}`,
);

const records: RunRecord[] = [];
// Runs go round the workloads (1 of each, then 2 of each...), so a change in the machine's load
// spreads over all workloads instead of landing on one.
for (let run = 1; run <= runs; run++) {
  for (const workload of selected) records.push(await runOnce(workload, run));
}

const medians = Object.fromEntries(selected.map((workload) => [workload.name, mediansOf(records.filter((record) => record.workload === workload.name))]));
printTable();
const result = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  commit,
  dirty,
  machine: { ...machine, loadAverageAtEnd: loadavg() },
  settings: {
    runs,
    security: securityParts,
    cluster: `3 nodes on 127.0.0.1, default node flags (durability as shipped)${secure ? ` plus ${securityFlags()}` : ''}, fresh data folder per run; client in this process, all on the same machine`,
    workloads: Object.fromEntries(selected.map((workload) => [workload.name, { title: workload.title, timeoutMs: workload.timeoutMs, ...workload.settings }])),
  },
  medians,
  runs: records,
};
const folder = join(REPO_ROOT, 'bench-results');
mkdirSync(folder, { recursive: true });
const file = join(folder, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.error(`results: ${file}`);
const failed = records.filter((record) => record.error !== undefined);
if (failed.length > 0) {
  console.error(`${failed.length} run(s) failed: ${failed.map((record) => `${record.workload} #${record.run}: ${record.error}`).join('; ')}`);
  process.exitCode = 1;
}

async function runOnce(workload: Workload, run: number): Promise<RunRecord> {
  const label = `${workload.name} run ${run}/${runs}`;
  const loadAverageBefore = loadavg();
  console.error(`${label}: ${workload.title} (load average ${formatLoad(loadAverageBefore)}; times out after ${workload.timeoutMs / 1000} s)`);
  const controller = new AbortController();
  const bench = new BenchRun(label, controller.signal, security);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let figures: Figures = {};
  let error: string | undefined;
  try {
    const work = workload.run(bench);
    work.catch(() => undefined);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = new Error(`timed out after ${workload.timeoutMs / 1000} s`);
        controller.abort(reason);
        reject(reason);
      }, workload.timeoutMs);
    });
    figures = await Promise.race([work, timeout]);
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
    console.error(`${label}: FAILED: ${error}`);
  } finally {
    clearTimeout(timer);
    await bench.close();
  }
  const durationMs = Date.now() - started;
  if (error === undefined) console.error(`${label}: done in ${(durationMs / 1000).toFixed(1)} s: ${summary(workload, figures)}`);
  return {
    workload: workload.name,
    run,
    startedAt: new Date(started).toISOString(),
    durationMs,
    loadAverageBefore,
    loadAverageAfter: loadavg(),
    figures,
    details: bench.details,
    ...(error === undefined ? {} : { error }),
  };
}

function mediansOf(of: readonly RunRecord[]): Figures {
  const keys = new Set(of.flatMap((record) => Object.keys(record.figures)));
  const medians: Figures = {};
  for (const key of keys) {
    const samples = of.map((record) => record.figures[key]).filter((value): value is number => value !== undefined && Number.isFinite(value));
    if (samples.length > 0) medians[key] = median(samples);
  }
  return medians;
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summary(workload: Workload, figures: Figures): string {
  return workload.table.map((row) => `${row.label.replace(/^(W\d|Floor) /, '')} ${format(figures[row.key], row.digits)}`).join(', ');
}

function printTable(): void {
  const header = ['figure', `median of ${runs}`, ...Array.from({ length: runs }, (_, index) => `run ${index + 1}`)];
  const rows = selected.flatMap((workload) =>
    workload.table.map((row) => [
      row.label,
      format(medians[workload.name]?.[row.key], row.digits),
      ...Array.from({ length: runs }, (_, index) => {
        const record = records.find((candidate) => candidate.workload === workload.name && candidate.run === index + 1);
        return record?.error !== undefined ? 'failed' : format(record?.figures[row.key], row.digits);
      }),
    ]),
  );
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log(
    `load average at the end ${formatLoad(loadavg())} (at the start ${formatLoad(machine.loadAverageAtStart)}); ${machine.cpus} cpus${secure ? `; secure: ${securityLabel}` : ''}`,
  );
}

function securityFlags(): string {
  const flags = [
    ...(security.clusterKey === true ? ['--cluster-key-file'] : []),
    ...(security.auth === true ? ['--auth-file (one admin token)'] : []),
    ...(security.tls === true ? ['--tls-cert/--tls-key/--tls-ca'] : []),
  ];
  return flags.join(', ');
}

function format(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(2)).join(' / ');
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
