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

// Goal: a node refuses to start with a security setting that would leave it open or half-configured
// (beyond loopback without a cluster key, a weak key, a malformed auth file, an incomplete TLS set),
// and says which flag or file to fix; with --insecure it starts on 0.0.0.0 as asked. Listening on
// 0.0.0.0 needs an address to advertise: without --advertise-host the node refuses and says so.

/** How long a node gets to exit on a refused start, or to answer /health on a good one. */
const DEADLINE_MS = 45_000;

describe('node startup checks', () => {
  const nodes = soloNodes('quorumq-startup-');
  const scratch = nodes.scratch;

  function file(name: string, content: string): string {
    const path = join(scratch, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  /** Starts a node that must refuse: resolves its exit code and what it printed. */
  async function refusedStart(args: readonly string[]): Promise<{ code: number | string; output: string }> {
    const node = await nodes.start(args);
    const code = await Promise.race([node.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), DEADLINE_MS))]);
    const output = node.output();
    // The flags parsed: the refusal comes from the security checks, not from the argument parser.
    expect(output, output).not.toMatch(/^usage:/m);
    return { code, output };
  }

  it('refuses --host 0.0.0.0 without --cluster-key-file, naming --cluster-key-file and --insecure', async () => {
    const { code, output } = await refusedStart(['--host', '0.0.0.0', '--advertise-host', '127.0.0.1']);
    expect(code, output).not.toBe('still running');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/--cluster-key-file/);
    expect(output).toMatch(/--insecure/);
  });

  it('refuses --host 0.0.0.0 without --advertise-host, saying to set it', async () => {
    const { code, output } = await refusedStart(['--host', '0.0.0.0', '--insecure']);
    expect(code, output).toBe(2);
    expect(output).toMatch(/set --advertise-host/);
  });

  it('starts on 0.0.0.0 with --insecure and answers /health', async () => {
    const node = await nodes.start(['--host', '0.0.0.0', '--advertise-host', '127.0.0.1', '--insecure']);
    const health = await waitFor(
      async () => {
        if (node.child.exitCode !== null) throw new GiveUp(`the node exited with ${node.child.exitCode}: ${node.output()}`);
        const reply = await nodeRequest(`127.0.0.1:${node.port}`, '/health', {}, { timeoutMs: 5_000 });
        return reply.status === 200 ? reply : undefined;
      },
      DEADLINE_MS,
      'an --insecure node on 0.0.0.0 to answer /health',
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${node.output()}`);
    });
    expect(JSON.parse(health.text).status).toBe('ok');
    // And it serves what a client asks of it.
    const enqueued = await nodeRequest(
      `127.0.0.1:${node.port}`,
      '/queues/q/messages',
      {},
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"body":1}' },
    );
    expect(enqueued.status).toBe(201);
  });

  it('refuses a cluster key file whose key is too short, naming the file', async () => {
    const keyFile = file('short.key', 'too-short-a-key\n');
    const { code, output } = await refusedStart(['--cluster-key-file', keyFile]);
    expect(code, output).not.toBe('still running');
    expect(code, output).not.toBe(0);
    expect(output).toContain(keyFile);
    expect(output).toMatch(/at least 32/);
  });

  it('refuses a malformed auth file, naming the file and what is wrong', async () => {
    const authFile = file('auth.json', JSON.stringify({ tokens: [{ name: 'jobs-app', sha256: 'not-a-digest', actions: ['produce', 'fly'] }] }));
    const { code, output } = await refusedStart(['--auth-file', authFile]);
    expect(code, output).not.toBe('still running');
    expect(code, output).not.toBe(0);
    expect(output).toContain(authFile);
    expect(output).toMatch(/tokens\[0\]\.sha256/);
    expect(output).toMatch(/tokens\[0\]\.actions\[1\]/);

    const notJson = file('auth-not-json.json', '{ "tokens": [ ');
    const second = await refusedStart(['--auth-file', notJson]);
    expect(second.code, second.output).not.toBe('still running');
    expect(second.code, second.output).not.toBe(0);
    expect(second.output).toContain(notJson);
    expect(second.output).toMatch(/not valid JSON/);
  });

  it('refuses only one of the three TLS files, naming the flags it needs', async () => {
    const certFile = file('node.pem', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const { code, output } = await refusedStart(['--tls-cert', certFile]);
    expect(code, output).not.toBe('still running');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/--tls-key/);
    expect(output).toMatch(/--tls-ca/);
  });
});

/** SIGKILL by PID, and wait for the exit, unless the process has already ended. */
