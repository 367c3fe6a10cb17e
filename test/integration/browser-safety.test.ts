import { execFile } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { type NodeReply, nodeRequest } from '../../cluster/node-http.ts';
import { ClientSocket } from '../support/client-socket.ts';
import { clusterForSuite, type TestCluster } from './cluster-harness.ts';

// Goal: a web page cannot drive a node through its visitor's browser (a cross-site request, a
// foreign-Origin WebSocket, DNS rebinding), while curl and server-side clients, which send no
// Origin, work as the README shows. One node without auth, so that only the browser checks decide.
const ALLOWED_NAME = 'queue.example.test';

describe('browser safety', () => {
  const suite = clusterForSuite(1, ['--allowed-hosts', ALLOWED_NAME]);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  const address = () => test.cluster.nodes[0]!.address;
  const port = () => test.cluster.nodes[0]!.port;

  /** A POST as a browser's `fetch` or form sends it: `text/plain` needs no preflight. */
  function post(path: string, headers: Record<string, string>, body = '{"body":"x"}'): Promise<NodeReply> {
    return nodeRequest(address(), path, {}, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
  }

  function errorCode(reply: NodeReply): string | undefined {
    return (JSON.parse(reply.text) as { error?: { code?: string } }).error?.code;
  }

  async function queueIsEmpty(queue: string): Promise<void> {
    const stats = await test.request(0, 'GET', `/queues/${queue}`);
    // An enqueue creates its queue: one that does not exist received nothing.
    if (stats.status === 404) return;
    expect(stats.status).toBe(200);
    expect(stats.body.enqueued).toBe(0);
  }

  it('refuses a cross-site text/plain POST with 403, and the queue stays empty', async () => {
    const reply = await post('/queues/xsite/messages', { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(reply.status).toBe(403);
    expect(errorCode(reply)).toBe('FORBIDDEN');
    // Either telltale alone is enough.
    expect((await post('/queues/xsite/messages', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/queues/xsite/messages', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post('/queues/xsite/purge', { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, '')).status).toBe(403);
    await queueIsEmpty('xsite');
  });

  it('refuses an Origin on another port of this machine, and accepts its own origin', async () => {
    const otherPort = await post('/queues/origins/messages', { origin: 'http://localhost:8080' });
    expect(otherPort.status).toBe(403);
    expect(errorCode(otherPort)).toBe('FORBIDDEN');
    await queueIsEmpty('origins');
    const own = await post('/queues/origins/messages', {
      origin: `http://127.0.0.1:${port()}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    });
    expect(own.status).toBe(201);
    const stats = await test.request(0, 'GET', '/queues/origins');
    expect(stats.body.ready).toBe(1);
  });

  it('refuses a WebSocket upgrade with a foreign Origin with 403 on /ws and on /peer', async () => {
    for (const path of ['/ws', '/peer']) {
      const outcome = await ClientSocket.upgrade(`ws://${address()}${path}`, { origin: 'http://evil.example' });
      if (outcome.kind === 'open') outcome.socket.close();
      expect(outcome, path).toMatchObject({ kind: 'refused', status: 403 });
    }
    // The same upgrade from the node's own origin is served.
    const own = await ClientSocket.open(`ws://${address()}/ws`, { origin: `http://127.0.0.1:${port()}` });
    try {
      expect(await own.request({ id: 1, op: 'cluster', stale: true })).toMatchObject({ id: 1, ok: true });
    } finally {
      own.close();
    }
  });

  it('refuses a DNS-rebinding Host with 403, and serves loopback names, addresses and --allowed-hosts names', async () => {
    const get = (host: string) => nodeRequest(address(), '/queues', {}, { headers: { host } });
    const rebound = await get(`attacker.example:${port()}`);
    expect(rebound.status).toBe(403);
    expect(errorCode(rebound)).toBe('FORBIDDEN');
    const reboundWrite = await nodeRequest(
      address(),
      '/queues/rebound/messages',
      {},
      { method: 'POST', headers: { host: `attacker.example:${port()}`, 'content-type': 'application/json' }, body: '{"body":1}' },
    );
    expect(reboundWrite.status).toBe(403);
    await queueIsEmpty('rebound');
    const upgrade = await ClientSocket.upgrade(`ws://${address()}/ws`, { headers: { host: `attacker.example:${port()}` } });
    if (upgrade.kind === 'open') upgrade.socket.close();
    expect(upgrade).toMatchObject({ kind: 'refused', status: 403 });
    for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, `${ALLOWED_NAME}:${port()}`]) {
      expect((await get(host)).status, host).toBe(200);
    }
  });

  it('keeps curl working as the README shows it (no Origin): enqueue, receive, ack', async () => {
    const curl = (args: string[]) =>
      new Promise<unknown>((resolve, reject) => {
        execFile('curl', ['-sS', '--max-time', '20', ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
          error === null ? resolve(JSON.parse(stdout)) : reject(new Error(`curl failed: ${error.message} ${stderr}`)),
        );
      });
    const base = `localhost:${port()}`;
    const enqueued = (await curl([
      '-X',
      'POST',
      `${base}/queues/jobs/messages`,
      '-H',
      'content-type: application/json',
      '-d',
      '{"body":{"task":"resize","id":7}}',
    ])) as { id: string; seq: number };
    expect(enqueued).toMatchObject({ id: expect.any(String), seq: expect.any(Number) });
    const received = (await curl(['-X', 'POST', `${base}/queues/jobs/receive`, '-d', '{"max":10,"waitMs":5000}'])) as {
      messages: { receipt: string; body: unknown }[];
    };
    expect(received.messages.map((message) => message.body)).toEqual([{ task: 'resize', id: 7 }]);
    const acked = await curl(['-X', 'POST', `${base}/queues/jobs/ack`, '-d', JSON.stringify({ receipts: [received.messages[0]!.receipt] })]);
    expect(acked).toEqual({ acked: 1, rejected: [] });
  });
});
