// `quorumq cluster`: a local cluster on this machine for trying quorumq out, with readable logs.
// The shipped part of the repository's `npm run cluster` (cluster/launch.ts): the nodes and their logs.
// Its playground extras stay in the repository: --tls/--auth/--secure mint throwaway certificates with
// the openssl CLI and keys in the data folder, and --faults/--add serve `npm run fault` through a control
// endpoint; an installed package has no fault tool, and real keys and certificates are the operator's.
// Any node flag after `--` goes to every node (`-- --auth-file auth.json --tls-cert ...`).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatLine } from './log-format.ts';
import { NODE_MALLOC_ENV, NODE_V8_FLAGS } from './node-process.ts';
import { UsageError } from './usage-error.ts';

export const CLUSTER_USAGE = `usage: quorumq cluster [--nodes N] [--base-port P] [--data-root DIR] [-- node flags]
  --nodes N          nodes to start, 1 to 7 (default 3); they found the cluster together
  --base-port P      the first node's port; the others follow (default 7001)
  --data-root DIR    node data in DIR/node-<port> (default ./data)
  -- flags           passed to every node (see quorumq node --help)
  Ctrl-C stops every node cleanly.`;

/** How long a node gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
const HOST = '127.0.0.1';

interface ClusterSettings {
  readonly ports: readonly number[];
  readonly dataRoot: string;
  readonly nodeArgs: readonly string[];
}

export function parseClusterArgs(argv: readonly string[]): ClusterSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        nodes: { type: 'string', default: '3' },
        'base-port': { type: 'string', default: '7001' },
        'data-root': { type: 'string', default: 'data' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) throw new UsageError('');
  // parseArgs hands everything after `--` back as positionals; nothing else is a positional here.
  const separator = argv.indexOf('--');
  const nodeArgs = separator < 0 ? [] : argv.slice(separator + 1);
  if (positionals.length !== nodeArgs.length) throw new UsageError(`unexpected argument ${positionals[0]} (node flags go after --)`);
  const count = Number(values.nodes);
  const basePort = Number(values['base-port']);
  if (!Number.isInteger(count) || count < 1 || count > 7) throw new UsageError('--nodes must be 1..7');
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + count - 1 > 65535)
    throw new UsageError('--base-port must leave room for every node below 65536');
  return { ports: Array.from({ length: count }, (_, i) => basePort + i), dataRoot: resolve(values['data-root'] ?? 'data'), nodeArgs };
}

/** Starts the nodes and keeps them running until SIGINT or SIGTERM, which stop them all. */
export async function runCluster(argv: readonly string[]): Promise<void> {
  const settings = parseClusterArgs(argv);
  const founders = settings.ports.map((port) => `${HOST}:${port}`).join(',');
  const color = process.stdout.isTTY === true;
  let stopping = false;
  const children = settings.ports.map((port, index) => {
    const dataDir = join(settings.dataRoot, `node-${port}`);
    mkdirSync(dataDir, { recursive: true });
    const child = spawnNode([
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--seeds',
      founders,
      '--bootstrap-expect',
      String(settings.ports.length),
      ...settings.nodeArgs,
    ]);
    forEachLine(child, (line) => console.log(formatLine(port, index, line, color)));
    child.once('exit', (code, signal) => {
      if (!stopping) console.log(formatLine(port, index, `quorumq: the node exited (${signal ?? `code ${code}`})`, color));
      if (children.every((other) => other.exitCode !== null || other.signalCode !== null) && !stopping) process.exit(1);
    });
    return child;
  });
  console.log(`quorumq: starting ${settings.ports.length} nodes (data in ${settings.dataRoot})`);
  for (const port of settings.ports) console.log(`  http://${HOST}:${port}   ws://${HOST}:${port}/ws`);
  console.log(`Try:   quorumq enqueue jobs '{"hello":"world"}' --server ${HOST}:${settings.ports[0]}`);
  console.log(`Watch: http://${HOST}:${settings.ports[0]}/dashboard`);

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('quorumq: stopping the cluster');
    await Promise.all(children.map((child) => stopChild(child)));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // Started by a program of its own (a test, a supervisor) with an IPC channel: never outlive it.
  if (process.send !== undefined) process.on('disconnect', () => void stop());
}

/**
 * This same program's node entry, as a child whose PID is the node itself. From source (tsx), the
 * child needs tsx too; from the package, it runs the built JavaScript.
 */
function spawnNode(args: readonly string[]): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './node.ts' : './node.js', import.meta.url));
  // The IPC channel is a lifeline: a node whose launcher dies (even by SIGKILL) shuts down.
  return spawn(process.execPath, [...NODE_V8_FLAGS, ...(fromSource ? ['--import', 'tsx'] : []), entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...NODE_MALLOC_ENV, ...process.env },
  });
}

function forEachLine(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
