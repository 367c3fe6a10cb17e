// npm run chaos:matrix -- [--faults truncate,bitflip,...] [--nodes 3,5] [--runs 3] [--duration 45] [--seed 100]
// Runs the chaos harness once per fault kind, cluster size and run (one fault kind per run, seeds
// counting up from --seed), one run at a time, and prints a Markdown table of what each run found:
// acknowledged and lost messages, injections, how many the cluster noticed, time to repair, leases
// ended early. The table and every run's result go to chaos-results/matrix-<time>/.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import type { FaultRecord } from './nemesis.ts';
import type { QueueCheckResult } from './queue-checker.ts';

const DISK_AND_CLOCK_FAULTS = 'truncate,bitflip,wipe,powerloss,powerloss-all,diskfull,diskstall,failpoints,clockskew';
/** Crash points need longer runs: each injection waits for its point, and the sweep has 20 steps. */
const SLOW_FAULTS: Readonly<Record<string, number>> = { failpoints: 2 };

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: DISK_AND_CLOCK_FAULTS },
    nodes: { type: 'string', default: '3,5' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '45' },
    seed: { type: 'string', default: '100' },
  },
});

interface RunReport {
  readonly result: QueueCheckResult;
  readonly nemesis: readonly FaultRecord[];
}

const folder = join(REPO_ROOT, 'chaos-results', `matrix-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(folder, { recursive: true });
const rows: string[] = [
  '| fault | nodes | seed | verdict | lost of acknowledged | injections | detected | repair median / max | leases ended early | duplicates |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
let seed = Number(values.seed);
let failures = 0;
for (const fault of values.faults.split(',')) {
  for (const nodes of values.nodes.split(',')) {
    for (let run = 0; run < Number(values.runs); run++, seed++) {
      const out = join(folder, `${fault}-${nodes}n-seed${seed}.json`);
      const duration = Number(values.duration) * (SLOW_FAULTS[fault] ?? 1);
      const code = await runChaos(['--nodes', nodes, '--duration', String(duration), '--seed', String(seed), '--faults', fault, '--out', out]);
      const row = describeRun(fault, nodes, seed, code, out);
      if (!row.valid) failures++;
      rows.push(row.line);
      console.log(row.line);
    }
  }
}
const table = rows.join('\n');
writeFileSync(join(folder, 'table.md'), `${table}\n`);
console.log(`\n${table}\n\n${failures} of ${rows.length - 2} runs failed; written to ${folder}`);
process.exit(failures === 0 ? 0 : 1);

function runChaos(args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'chaos', 'run.ts'), ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

function describeRun(fault: string, nodes: string, seed: number, code: number, out: string): { valid: boolean; line: string } {
  let report: RunReport;
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  } catch {
    return { valid: false, line: `| ${fault} | ${nodes} | ${seed} | no result (exit ${code}) | | | | | | |` };
  }
  const { result, nemesis } = report;
  const detectable = nemesis.filter((record) => record.detected !== undefined);
  const detected = detectable.length === 0 ? 'n/a' : `${detectable.filter((record) => record.detected).length}/${detectable.length}`;
  const repairs = nemesis
    .map((record) => record.repairMs)
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  const unrepaired = nemesis.length - repairs.length;
  const repair =
    repairs.length === 0 ? 'n/a' : `${repairs[Math.floor((repairs.length - 1) / 2)]} / ${repairs.at(-1)} ms${unrepaired > 0 ? ` (${unrepaired} never)` : ''}`;
  const reasons = [...result.reasons, ...(unrepaired > 0 ? [`${unrepaired} faults never repaired`] : [])];
  const verdict = result.valid && code === 0 ? 'valid' : `**INVALID** (${reasons.join('; ') || `exit ${code}`})`;
  const line = `| ${fault} | ${nodes} | ${seed} | ${verdict} | ${result.lost.count} of ${result.acknowledged} | ${nemesis.length} | ${detected} | ${repair} | ${result.leasesEndedEarly.count} | ${result.duplicated.count} |`;
  return { valid: result.valid && code === 0, line };
}
