import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { nodeRequest } from '../../cluster/node-http.ts';
import { waitFor } from './cluster-harness.ts';

// Goal: the package as a user gets it. `npm pack` builds dist/ and packs it; the tarball, installed
// into an empty project with --omit=dev, runs a 3-node cluster with its own `quorumq` command (built
// JavaScript, no tsx), and a plain app.mjs enqueues, consumes with a Worker and acks through
// `quorumq/client`, whose declarations type-check a .ts file under NodeNext. Without the optional
// classic-level addon the SDK is all there is, and `quorumq node` says what to install.

const run = promisify(execFile);
/** npm pack builds (tsc) and two installs fetch from the registry or its cache: generous, but bounded. */
const PREPARE_MS = 240_000;
const STEP_MS = 60_000;

/** npm's own variables of the `npm test` that may run us must not steer the project's npm. */
const NPM_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || /^npm_config_(cache|registry|userconfig)$/i.test(key)),
) as NodeJS.ProcessEnv;

/** The first of `count` consecutive ports free on 127.0.0.1 (`quorumq cluster` takes a base port). */
async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [base] = await freePorts(1);
    if (base! + count > 65535) continue;
    const free = await Promise.all(Array.from({ length: count }, (_, offset) => isFree(base! + offset)));
    if (free.every(Boolean)) return base!;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args], { cwd, env: NPM_ENV, timeout: PREPARE_MS, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

const APP = `
import { connect, Worker } from 'quorumq/client';

const client = connect({ nodes: process.argv.slice(2) });
const done = [];
const worker = new Worker(client, 'pkg.jobs', async (job) => job.data.n * 10, { concurrency: 2 });
const finished = new Promise((resolve) => worker.on('completed', (job, result) => { done.push(result); if (done.length === 3) resolve(); }));
for (const n of [1, 2, 3]) await client.enqueue('pkg.jobs', { n });
await finished;
await worker.close();
const stats = await client.getQueue('pkg.jobs');
client.close();
console.log(JSON.stringify({ results: done.sort((a, b) => a - b), ready: stats.ready, inflight: stats.inflight, acked: stats.acked }));
`;

const TYPED = `
import { connect, type Job, QuorumqError, Worker } from 'quorumq/client';

const client = connect({ nodes: ['127.0.0.1:7001'], token: 'qq_token', tls: { ca: Buffer.from('') } });
const { id, seq }: { id: string; seq: number } = await client.enqueue('jobs', { task: 'resize' });
const worker = new Worker(client, 'jobs', async (job: Job<{ task: string }>) => job.data.task.length, { concurrency: 4 });
worker.on('failed', (_job, error) => console.warn(error instanceof QuorumqError ? error.code : error.message));
// @ts-expect-error a queue name is a string: the declarations are types, not any
await client.enqueue(42, {});
await worker.close();
client.close();
export { id, seq };
`;

describe('the packed package, installed', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'quorumq-pkg-'));
  const project = join(scratch, 'project');
  const bin = join(project, 'node_modules', '.bin', 'quorumq');
  /** Every process a test started (nodes, the launcher), stopped by PID after all. */
  const started: ChildProcess[] = [];
  let packedFiles: string[] = [];

  beforeAll(async () => {
    // The build (prepack) prints to the same stdout as the JSON report, before it.
    const report = await npm(['pack', '--json', '--pack-destination', scratch], REPO_ROOT);
    const [packed] = JSON.parse(report.slice(report.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed!.files.map((file) => file.path);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'quorumq-package-test', version: '1.0.0', private: true, type: 'module' }));
    await npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, packed!.filename)], project);
  }, PREPARE_MS);

  afterAll(async () => {
    // By PID, whatever happened: the nodes also stop on their own if this process dies (IPC lifeline).
    await Promise.all(
      started.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(scratch, { recursive: true, force: true });
  });

  it('packs the built program, its declarations, the dashboard and the defaults, and no sources or tests', () => {
    for (const file of [
      'dist/cli/quorumq.js',
      'dist/cli/node.js',
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/server/api/dashboard/index.html',
      'cluster/defaults.json',
      'CHANGELOG.md',
      'README.md',
      // The README links into docs/: an installed package keeps its guides.
      'docs/sdk.md',
      'docs/http-api.md',
    ]) {
      expect(packedFiles).toContain(file);
    }
    expect(packedFiles.filter((file) => /^(src|test|scripts)\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts')))).toEqual([]);
  });

  it('installs the SDK alone: no LevelDB addon, and quorumq node says how to add it', async () => {
    expect(existsSync(join(project, 'node_modules', 'quorumq', 'dist', 'client', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'classic-level'))).toBe(false);
    const version = await run(bin, ['--version'], { cwd: project });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    const refused = await run(bin, ['node', '--port', '1', '--data-dir', join(scratch, 'unused')], { cwd: project }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/npm install classic-level/);
  });

  let addon: Promise<string> | undefined;
  /** Running nodes takes the optional LevelDB addon, installed as the README says once the SDK-only install is checked. */
  const withAddon = () => (addon ??= npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', 'classic-level@^3'], project));

  it(
    'runs a local cluster with quorumq cluster, whose nodes serve, and stops them all on SIGINT',
    async () => {
      await withAddon();
      const base = await consecutiveFreePorts(3);
      const addresses = [0, 1, 2].map((offset) => `127.0.0.1:${base + offset}`);
      const output: string[] = [];
      // With an IPC channel, as the nodes have: the launcher stops its nodes if this process dies.
      const child = spawn(bin, ['cluster', '--base-port', String(base), '--data-root', join(scratch, 'local-cluster')], {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      for (const stream of [child.stdout, child.stderr]) stream?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
      started.push(child);
      const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
      for (const address of addresses)
        await waitFor(async () => ((await nodeRequest(address, '/health')).status === 200 ? true : undefined), 30_000, `${address} healthy`);
      expect(output.join('')).toMatch(/\[\d+\] \S+ INFO /);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const address of addresses) await expect(nodeRequest(address, '/health', {}, { timeoutMs: 1000 })).rejects.toThrow();
    },
    PREPARE_MS,
  );

  it(
    'runs a 3-node cluster with the installed quorumq command, and app.mjs enqueues, works and acks through quorumq/client',
    async () => {
      await withAddon();
      const ports = await freePorts(3);
      const seeds = ports.map((port) => `127.0.0.1:${port}`).join(',');
      const nodes: { address: string; output: string[] }[] = [];
      for (const port of ports) {
        const output: string[] = [];
        // The bin itself: `#!/usr/bin/env node` execs node, so the PID held is the node's.
        const child = spawn(bin, ['node', '--port', String(port), '--data-dir', join(scratch, `node-${port}`), '--seeds', seeds, '--bootstrap-expect', '3'], {
          cwd: project,
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        });
        for (const stream of [child.stdout, child.stderr]) stream?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
        started.push(child);
        nodes.push({ address: `127.0.0.1:${port}`, output });
      }
      const addresses = nodes.map((node) => node.address);
      try {
        for (const address of addresses)
          await waitFor(async () => ((await nodeRequest(address, '/health')).status === 200 ? true : undefined), 30_000, `${address} healthy`);
      } catch (error) {
        throw new Error(`${String(error)}\n${nodes.map((node) => node.output.join('').slice(-2000)).join('\n')}`);
      }
      const dashboard = await nodeRequest(addresses[0]!, '/dashboard');
      expect(dashboard.status).toBe(200);
      expect(dashboard.text).toMatch(/<html/i);

      writeFileSync(join(project, 'app.mjs'), APP);
      const app = await run(process.execPath, ['app.mjs', ...addresses], { cwd: project, timeout: STEP_MS });
      expect(JSON.parse(app.stdout)).toEqual({ results: [10, 20, 30], ready: 0, inflight: 0, acked: 3 });
    },
    PREPARE_MS,
  );

  it(
    'type-checks a .ts file against the installed declarations (NodeNext, strict, library checks on)',
    async () => {
      writeFileSync(join(project, 'check.ts'), TYPED);
      const tsconfig = {
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['check.ts'],
      };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const checked = await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project, timeout: STEP_MS }).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
      expect(checked).toBe('');
    },
    STEP_MS,
  );
});
