import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serverUrl } from '../../../src/cli/node-api.ts';
import { type CommandIo, EXIT, runOperatorCommand } from '../../../src/cli/operator-commands.ts';
import { keyValues, table } from '../../../src/cli/text-output.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

// Goal: the operator commands' contract without a cluster: usage errors exit 2 before any request,
// refusals exit 1 with the code, failover goes to the next node only when that cannot write twice,
// and tables line up. Fake nodes are in-process HTTP servers answering as HTTP-API.md says.

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

type Answer = (seen: Seen) => { status: number; body?: unknown };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A fake node on a free port: records each request and answers with `answer`. */
async function fakeNode(answer: Answer): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        body: text === '' ? undefined : JSON.parse(text),
        authorization: request.headers.authorization,
      };
      seen.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { address: `127.0.0.1:${address.port}`, seen };
}

/** A port with nothing listening on it. */
async function deadAddress(): Promise<string> {
  const { address } = await fakeNode(() => ({ status: 200 }));
  await new Promise((resolve) => servers.pop()!.close(resolve));
  return address;
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    stdout: (text) => (stdout += `${text}\n`),
    stderr: (text) => (stderr += `${text}\n`),
    env,
    readStdin: async () => '{"from":"stdin"}',
  };
  const code = await runOperatorCommand(argv, io, ['127.0.0.1:1']);
  return { code, stdout, stderr };
}

const refusal = (status: number, code: string) => ({ status, body: { error: { code, message: `refused: ${code}` } } });

describe('operator command lines', () => {
  it('exits 2 on an unknown command or flag, a missing argument, a bad number or body, before asking any node', async () => {
    const node = await fakeNode(() => ({ status: 200, body: {} }));
    const server = ['--server', node.address];
    for (const argv of [
      ['frobnicate'],
      ['queues', 'info'],
      ['queues', 'info', 'a', 'b'],
      ['get', 'jobs'],
      ['status', '--no-such-flag'],
      ['status', '--visibility-ms', '5'],
      ['queues', 'configure', 'jobs', '--visibility-ms', 'soon'],
      ['queues', 'configure', 'jobs', '[1,2]'],
      ['queues', 'configure', 'jobs', '--backoff-base-ms', '10'],
      ['enqueue', 'jobs', 'not json'],
      ['enqueue', 'jobs', '{}', '--priority', '-1'],
      ['peek', 'jobs', '--limit', '0'],
      ['status', '--server', 'ftp://host:1'],
      ['status', '--server', 'host-without-port'],
      ['status', '--ca', '/no/such/ca.pem'],
    ]) {
      const result = await run([...argv, ...(argv.includes('--server') ? [] : server)]);
      expect(result.code, argv.join(' ')).toBe(EXIT.usage);
      expect(result.stderr).toMatch(/^quorumq: /);
    }
    expect(node.seen).toEqual([]);
  });

  it('prints the help and exits 0 with --help', async () => {
    const result = await run(['status', '--help']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/Exit status:/);
  });

  it('sends what the contract asks, with the token, flags anywhere, and prints the JSON with --json', async () => {
    const node = await fakeNode((seen) =>
      seen.method === 'PUT'
        ? { status: 201, body: { name: 'jobs', created: true, config: { visibilityMs: 5000 } } }
        : { status: 201, body: { id: '7', seq: 3 } },
    );
    const configured = await run([
      '--server',
      node.address,
      'queues',
      'configure',
      'jobs',
      '{"maxDeliveries":3}',
      '--visibility-ms',
      '5000',
      '--backoff-base-ms',
      '10',
      '--backoff-max-ms',
      '100',
      '--token',
      'secret',
    ]);
    expect(configured.code).toBe(EXIT.ok);
    expect(configured.stdout).toMatch(/^created queue jobs\n/);
    expect(node.seen[0]).toEqual({
      method: 'PUT',
      url: '/queues/jobs',
      body: { maxDeliveries: 3, visibilityMs: 5000, backoff: { baseMs: 10, maxMs: 100 } },
      authorization: 'Bearer secret',
    });
    const enqueued = await run(['enqueue', 'a/b', '-', '--priority', '9', '--json', '--server', node.address], { QUORUMQ_TOKEN: 'from-env' });
    expect(JSON.parse(enqueued.stdout)).toEqual({ id: '7', seq: 3 });
    const sent = node.seen[1]!;
    expect(sent.url).toBe('/queues/a%2Fb/messages');
    expect(sent.authorization).toBe('Bearer from-env');
    expect(sent.body).toMatchObject({ body: { from: 'stdin' }, priority: 9, dedupId: expect.stringMatching(/^quorumq-cli-/) });
  });

  it('exits 1 with the code on a refusal, and prints the error as JSON with --json', async () => {
    const node = await fakeNode(() => refusal(404, 'NOT_FOUND'));
    const text = await run(['queues', 'info', 'nope', '--server', node.address]);
    expect(text.code).toBe(EXIT.failed);
    expect(text.stderr).toMatch(/^quorumq: NOT_FOUND \(404\): refused: NOT_FOUND/);
    const json = await run(['queues', 'info', 'nope', '--json', '--server', node.address]);
    expect(json.code).toBe(EXIT.failed);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'NOT_FOUND', status: 404 } });
  });

  it('fails over past a node that cannot be reached or has no leader, and stops at a final refusal', async () => {
    const dead = await deadAddress();
    const noLeader = await fakeNode(() => refusal(503, 'NO_LEADER'));
    const unauthorized = await fakeNode(() => refusal(401, 'UNAUTHORIZED'));
    const good = await fakeNode(() => ({ status: 200, body: { purged: 4 } }));
    const purged = await run(['queues', 'purge', 'jobs', '--server', [dead, noLeader.address, good.address].join(',')]);
    expect(purged).toMatchObject({ code: EXIT.ok, stdout: 'purged 4 messages from jobs\n' });
    expect(noLeader.seen).toHaveLength(1);

    const refused = await run(['queues', 'purge', 'jobs', '--server', [unauthorized.address, good.address].join(',')]);
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.stderr).toMatch(/UNAUTHORIZED \(401\)/);
    expect(good.seen).toHaveLength(1);

    const nobody = await run(['status', '--server', dead]);
    expect(nobody.code).toBe(EXIT.failed);
    expect(nobody.stderr).toMatch(/^quorumq: UNREACHABLE: /);
  });

  it('repeats on another node after an unknown outcome only what may take effect twice', async () => {
    const unsure = await fakeNode(() => refusal(503, 'UNAVAILABLE'));
    const good = await fakeNode((seen) => ({
      status: seen.method === 'POST' && seen.url.endsWith('/purge') ? 200 : 201,
      body: { purged: 1, id: '1', seq: 1 },
    }));
    const servers = ['--server', `${unsure.address},${good.address}`];
    const purge = await run(['queues', 'purge', 'jobs', ...servers]);
    expect(purge.code).toBe(EXIT.failed);
    expect(purge.stderr).toMatch(/UNAVAILABLE/);
    expect(good.seen).toHaveLength(0);
    // An enqueue carries a dedupId, so the second node may take it: the cluster enqueues it once.
    const enqueue = await run(['enqueue', 'jobs', '1', ...servers]);
    expect(enqueue.code).toBe(EXIT.ok);
    expect((good.seen[0]!.body as { dedupId: string }).dedupId).toBe((unsure.seen[1]!.body as { dedupId: string }).dedupId);
  });

  it('keeps trying in rounds while the only node has no leader yet, until the time is up', async () => {
    let calls = 0;
    const node = await fakeNode(() => (++calls < 3 ? refusal(503, 'NO_LEADER') : { status: 200, body: { queues: [] } }));
    const listed = await run(['queues', '--server', node.address]);
    expect(listed).toMatchObject({ code: EXIT.ok, stdout: 'no queues\n' });
    const never = await fakeNode(() => refusal(503, 'NO_LEADER'));
    const timedOut = await run(['queues', '--server', never.address, '--timeout-ms', '600']);
    expect(timedOut.code).toBe(EXIT.failed);
    expect(timedOut.stderr).toMatch(/NO_LEADER/);
  });
});

describe('server addresses', () => {
  it('takes host:port, [v6]:port and http(s) URLs; a bare address is https with a CA', () => {
    expect(serverUrl('127.0.0.1:7001', false).href).toBe('http://127.0.0.1:7001/');
    expect(serverUrl('node-1:7001', true).href).toBe('https://node-1:7001/');
    expect(serverUrl('[::1]:7001', false).host).toBe('[::1]:7001');
    expect(serverUrl('http://10.0.0.1:7001', true).protocol).toBe('http:');
    expect(() => serverUrl('10.0.0.1', false)).toThrow(UsageError);
    expect(() => serverUrl('http://10.0.0.1:7001/queues', false)).toThrow(UsageError);
  });
});

describe('text output', () => {
  it('lines columns up under their header', () => {
    expect(
      table(
        ['ID', 'STATE'],
        [
          ['1', 'ready'],
          ['1234', 'inflight'],
        ],
      ),
    ).toBe('ID    STATE\n1     ready\n1234  inflight');
  });

  it('lists fields with nested ones indented and times as dates', () => {
    expect(keyValues({ name: 'jobs', enqueuedAt: 0, config: { backoff: { baseMs: 1 } }, gone: undefined })).toBe(
      'name        jobs\nenqueuedAt  1970-01-01T00:00:00.000Z\nconfig\n  backoff\n    baseMs  1',
    );
  });
});
