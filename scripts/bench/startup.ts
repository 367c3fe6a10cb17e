// `npx tsx scripts/bench/startup.ts [--runs 5] [--idle-ms 5000]`: how long a fresh single node takes from
// spawn to listening and to serving (`/health` 200, with --bootstrap-expect 1), and its resident size once
// idle, for the built package (`npm run build` first) against tsx from source. Each run is a new process
// on a free port with an empty temp data folder, stopped by its PID afterwards; prints medians.
//   dist       node dist/cli/quorumq.js node ...   (what the installed `quorumq node` runs: no V8 flag)
//   dist+flag  the same with --max-semi-space-size=4 (NODE_OPTIONS, or quorumq cluster)
//   tsx        node --max-semi-space-size=4 --import tsx src/cli/node.ts ...   (npm run node)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { nodeRequest } from '../../cluster/node-http.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'idle-ms': { type: 'string', default: '5000' } } });
const RUNS = Number(values.runs);
const IDLE_MS = Number(values['idle-ms']);
const POLL_MS = 5;
const DEADLINE_MS = 60_000;

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
}

const VARIANTS: readonly Variant[] = [
  { name: 'dist', args: [join(REPO_ROOT, 'dist', 'cli', 'quorumq.js'), 'node'] },
  { name: 'dist+flag', args: ['--max-semi-space-size=4', join(REPO_ROOT, 'dist', 'cli', 'quorumq.js'), 'node'] },
  { name: 'tsx', args: ['--max-semi-space-size=4', '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'node.ts')] },
];

interface Sample {
  readonly listenMs: number;
  readonly healthyMs: number;
  readonly idleRssMb: number;
}

if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'quorumq.js'))) {
  console.error('no dist/: run npm run build first');
  process.exit(2);
}

const results = new Map<string, Sample[]>(VARIANTS.map((variant) => [variant.name, []]));
// Interleaved, so that a slower moment of the machine does not fall on one variant only.
for (let run = 0; run < RUNS; run++) {
  for (const variant of VARIANTS) {
    const sample = await measure(variant);
    results.get(variant.name)!.push(sample);
    console.log(`${variant.name.padEnd(9)} run ${run + 1}: listening ${sample.listenMs} ms, serving ${sample.healthyMs} ms, idle RSS ${sample.idleRssMb} MB`);
  }
}
console.log(`\nmedians of ${RUNS} runs (idle RSS after ${IDLE_MS} ms serving):`);
console.log('variant    listening  serving  idle RSS');
for (const [name, samples] of results) {
  const pick = (field: keyof Sample) => median(samples.map((sample) => sample[field]));
  console.log(`${name.padEnd(9)}  ${`${pick('listenMs')} ms`.padStart(9)}  ${`${pick('healthyMs')} ms`.padStart(7)}  ${`${pick('idleRssMb')} MB`.padStart(8)}`);
}

async function measure(variant: Variant): Promise<Sample> {
  const [port] = await freePorts(1);
  const dataDir = mkdtempSync(join(tmpdir(), 'quorumq-startup-'));
  const address = `127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...variant.args, '--port', String(port), '--data-dir', dataDir, '--seeds', address, '--bootstrap-expect', '1', '--log-level', 'warn'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  try {
    await until(() => canConnect(port!), `${variant.name} listening`);
    const listenMs = Math.round(performance.now() - started);
    await until(async () => (await nodeRequest(address, '/health', {}, { timeoutMs: 1000 })).status === 200, `${variant.name} healthy`);
    const healthyMs = Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return { listenMs, healthyMs, idleRssMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS;
  while (!(await probe().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resident set size from /proc (Linux), in MB. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((text) => text.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
