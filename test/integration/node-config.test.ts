import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { NODE_V8_FLAGS, REPO_ROOT } from '../../cluster/local-cluster.ts';
import { nodeRequest } from '../../cluster/node-http.ts';
import { GiveUp, waitFor } from './cluster-harness.ts';
import { type StartedNode, soloNodes } from './solo-nodes.ts';

// Goal: a real node takes its settings from a --config file, QUORUMQ_* variables and flags, the
// later over the earlier, and configures the file's queues once it has a leader (GET /queues/<name>
// shows that config); a variable that is no setting stops it before it starts, named.

/** How long a node gets to exit on a refused start, or to show what is asked of it. */
const DEADLINE_MS = 45_000;

describe('node configuration', () => {
  const nodes = soloNodes('quorumq-config-');
  const scratch = nodes.scratch;

  /** Asks the node until `accept` takes its answer (a 200 whose JSON it likes). */
  async function askUntil<T>(node: StartedNode, path: string, accept: (body: T) => boolean, what: string): Promise<T> {
    return waitFor(
      async () => {
        if (node.child.exitCode !== null) throw new GiveUp(`the node exited with ${node.child.exitCode}: ${node.output()}`);
        const reply = await nodeRequest(`127.0.0.1:${node.port}`, path, {}, { timeoutMs: 5_000 }).catch(() => undefined);
        if (reply?.status !== 200) return undefined;
        const body = JSON.parse(reply.text) as T;
        return accept(body) ? body : undefined;
      },
      DEADLINE_MS,
      what,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${node.output()}`);
    });
  }

  it('configures the queues of its config file, and takes variables over the file and flags over variables', async () => {
    const configFile = join(scratch, 'quorumq.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        // Both overridden below: were the file to win, the node would advertise from-file.invalid:1.
        advertiseHost: 'from-file.invalid',
        advertisePort: 1,
        queues: { orders: { visibilityMs: 45_000, maxDeliveries: 7, backoff: { baseMs: 200, maxMs: 4000 } } },
      }),
    );
    const node = await nodes.start(['--config', configFile, '--advertise-host', '127.0.0.1'], {
      QUORUMQ_ADVERTISE_HOST: 'from-environment.invalid',
      QUORUMQ_ADVERTISE_PORT: '',
      QUORUMQ_LOG_LEVEL: 'info',
    });
    const queue = await askUntil<{ name: string; config: Record<string, unknown> }>(
      node,
      '/queues/orders',
      () => true,
      'the config file to configure queue orders',
    );
    expect(queue.name).toBe('orders');
    expect(queue.config).toMatchObject({ visibilityMs: 45_000, maxDeliveries: 7, backoff: { baseMs: 200, maxMs: 4000 } });
    expect(node.output()).toMatch(/queue configured from the config file/);
    // An empty variable is unset, so the file's port stands; the flag beats the variable's host.
    const cluster = await askUntil<{ self: { address: string } }>(node, '/cluster?stale=1', () => true, 'the node to describe itself');
    expect(cluster.self.address).toBe('127.0.0.1:1');
  });

  it('takes a QUORUMQ_* variable over the file', async () => {
    const configFile = join(scratch, 'advertise.json');
    writeFileSync(configFile, JSON.stringify({ advertiseHost: 'from-file.invalid', advertisePort: 1 }));
    const node = await nodes.start(['--config', configFile], { QUORUMQ_ADVERTISE_HOST: '127.0.0.1', QUORUMQ_ADVERTISE_PORT: '2' });
    const cluster = await askUntil<{ self: { address: string } }>(node, '/cluster?stale=1', () => true, 'the node to describe itself');
    expect(cluster.self.address).toBe('127.0.0.1:2');
  });

  it('refuses to start with a QUORUMQ_* variable that is no setting, naming it', async () => {
    const node = await nodes.start([], { QUORUMQ_DATADIR: join(scratch, 'elsewhere') });
    const code = await Promise.race([node.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), DEADLINE_MS))]);
    expect(code, node.output()).toBe(2);
    expect(node.output()).toMatch(/environment variable QUORUMQ_DATADIR: not a node setting \(did you mean QUORUMQ_DATA_DIR\?\)/);
  });
});

/** SIGKILL by PID, and wait for the exit, unless the process has already ended. */
