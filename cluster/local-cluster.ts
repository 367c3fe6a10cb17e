import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_MALLOC_ENV, NODE_V8_FLAGS } from '../src/cli/node-process.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalClusterOptions {
  readonly ports: readonly number[];
  /** Each node's data lands in `<dataRoot>/node-<port>`. */
  readonly dataRoot: string;
  readonly extraArgs?: readonly string[];
  /** Flags for the Node.js runtime of each node, e.g. `--cpu-prof` for profiling. */
  readonly nodeFlags?: readonly string[];
  /** Receives every line a node prints, with the node's port. */
  readonly onLine?: (port: number, line: string) => void;
}

export interface LocalNode {
  readonly port: number;
  readonly address: string;
  readonly dataDir: string;
  /** Whom it contacts at start; founders know each other, a joiner may know a single seed. */
  readonly seeds: string;
  /** Founders found the cluster together; a joiner (0) waits to be added to it. */
  readonly bootstrapExpect: number;
  /**
   * The node program this node starts with: this checkout's `src/cli/node.ts` unless set (an
   * upgrade test sets another release's `dist/cli/node.js`, then clears it to upgrade the node).
   */
  entry?: string;
  process: ChildProcess | undefined;
}

// The settings every launched node gets live with `quorumq cluster`, which ships in the package.
export { NODE_MALLOC_ENV, NODE_V8_FLAGS };

/** How long a node gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * Real node processes on 127.0.0.1, one per port, started as `node --import tsx src/cli/node.ts`
 * so that the PID we hold is the node itself: killing it kills the node, not a wrapper.
 */
export class LocalCluster {
  readonly nodes: LocalNode[];

  constructor(private readonly options: LocalClusterOptions) {
    const founders = options.ports.map((port) => `127.0.0.1:${port}`).join(',');
    this.nodes = options.ports.map((port) => this.describe(port, founders, options.ports.length));
  }

  /** Adds a node that joins the running cluster through `seeds`; returns its index. */
  add(port: number, seeds: readonly string[]): number {
    this.nodes.push(this.describe(port, seeds.join(','), 0));
    return this.nodes.length - 1;
  }

  private describe(port: number, seeds: string, bootstrapExpect: number): LocalNode {
    return { port, address: `127.0.0.1:${port}`, dataDir: join(this.options.dataRoot, `node-${port}`), seeds, bootstrapExpect, process: undefined };
  }

  startAll(): void {
    for (let index = 0; index < this.nodes.length; index++) this.start(index);
  }

  /** Starts node `index`; `env` adds variables for this start only (failpoints, test switches). */
  start(index: number, extraArgs: readonly string[] = [], env: Readonly<Record<string, string>> = {}): void {
    const node = this.nodes[index]!;
    if (node.process !== undefined) throw new Error(`node ${node.port} is already running`);
    mkdirSync(node.dataDir, { recursive: true });
    const args = [
      ...NODE_V8_FLAGS,
      ...(this.options.nodeFlags ?? []),
      '--import',
      'tsx',
      node.entry ?? join(REPO_ROOT, 'src', 'cli', 'node.ts'),
      '--port',
      String(node.port),
      '--data-dir',
      node.dataDir,
      '--seeds',
      node.seeds,
      '--bootstrap-expect',
      String(node.bootstrapExpect),
      ...(this.options.extraArgs ?? []),
      ...extraArgs,
    ];
    // The IPC channel is a lifeline: a node whose launcher dies (even by SIGKILL) shuts down.
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...NODE_MALLOC_ENV, ...process.env, ...env },
    });
    node.process = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.options.onLine?.(node.port, line);
      });
    }
    child.once('exit', () => {
      if (node.process === child) node.process = undefined;
    });
  }

  /** Sends `signal` to the node's PID and waits for it to exit (SIGKILL: at once, like a crash). */
  async kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.nodes[index]!.process;
    if (child === undefined) return;
    await stopProcess(child, signal);
  }

  pause(index: number): void {
    this.nodes[index]!.process?.kill('SIGSTOP');
  }

  resume(index: number): void {
    this.nodes[index]!.process?.kill('SIGCONT');
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        if (child === undefined) return;
        child.kill('SIGCONT');
        await stopProcess(child, signal);
      }),
    );
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
