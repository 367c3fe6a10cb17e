import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { NODE_V8_FLAGS, REPO_ROOT } from '../../cluster/local-cluster.ts';

export interface StartedNode {
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the node printed, stdout and stderr together. */
  output(): string;
  /** The exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/**
 * Nodes started alone (each a one-node cluster), as the local-cluster launcher starts one, on free
 * ports with data in a scratch folder: for tests of how a node starts or refuses to. Whatever a test
 * started is killed by PID after it, failed or not, and the folder removed after the file.
 */
export function soloNodes(prefix: string): { scratch: string; start(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<StartedNode> } {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const started: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map(stopChild));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });
  async function start(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<StartedNode> {
    const [port] = await freePorts(1);
    const dataDir = mkdtempSync(join(scratch, 'node-'));
    const child = spawn(
      process.execPath,
      [
        ...NODE_V8_FLAGS,
        '--import',
        'tsx',
        join(REPO_ROOT, 'src', 'cli', 'node.ts'),
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--seeds',
        `127.0.0.1:${port}`,
        '--bootstrap-expect',
        '1',
        ...args,
      ],
      // The IPC channel makes the node shut down if this test process dies.
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...env } },
    );
    started.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    return { port: port!, child, output: () => output, exited };
  }
  return { scratch, start };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
