import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { REPO_ROOT } from '../../cluster/local-cluster.ts';
import { makeSecureSetup, type SecureSetup } from '../../cluster/secure-setup.ts';
import { type CommandIo, EXIT, runOperatorCommand } from '../../src/cli/operator-commands.ts';
import { clusterForSuite, waitFor } from './cluster-harness.ts';

// Goal: the operator commands of `quorumq` against a real 3-node cluster secured as in production
// (auth file, TLS): each command's --json output is the server's answer, refusals exit 1 with the
// error code, usage errors exit 2, and a node that cannot be reached is passed over. Most commands run
// in this process (runOperatorCommand, as the bin calls it); the exit statuses also from a real process.
let secure: SecureSetup | undefined;
const setup = async (dir: string): Promise<SecureSetup> => {
  secure = await makeSecureSetup(join(dir, 'secure'), { auth: true, tls: true });
  return secure;
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the quorumq operator commands on a real cluster', () => {
  const suite = clusterForSuite(3, [], setup);
  let servers: string;
  let credentials: string[];

  beforeAll(() => {
    servers = suite()
      .cluster.nodes.map((node) => node.address)
      .join(',');
    credentials = ['--token', suite().access.token!, '--ca', secure!.files.caFile!];
  });

  /** The command in this process, with the cluster's servers and credentials unless `bare`. */
  async function quorumq(args: readonly string[], bare = false): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: CommandIo = { stdout: (text) => (stdout += `${text}\n`), stderr: (text) => (stderr += `${text}\n`), env: {}, readStdin: async () => '' };
    const code = await runOperatorCommand(bare ? args : [...args, '--server', servers, ...credentials], io, []);
    return { code, stdout, stderr };
  }

  async function json(args: readonly string[]): Promise<any> {
    const run = await quorumq([...args, '--json']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    return JSON.parse(run.stdout);
  }

  /** The bin as a process (from source, through tsx), for its real exit status. */
  function quorumqProcess(args: readonly string[]): Run {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'quorumq.ts'), ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, QUORUMQ_SERVER: servers, QUORUMQ_CA: secure!.files.caFile!, QUORUMQ_TOKEN: suite().access.token! },
    });
    return { code: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
  }

  it('status: every member, the leader, replication lag and health', async () => {
    // Just after the election a follower may not have answered its first append yet: wait for every match.
    const view = await waitFor(
      async () => {
        const status = await json(['status']);
        return status.members.every((member: { lag: unknown; health: { ok: boolean } }) => typeof member.lag === 'number' && member.health.ok)
          ? status
          : undefined;
      },
      15_000,
      'every member caught up and healthy',
    );
    const addresses = suite().cluster.nodes.map((node) => node.address);
    expect(view.members.map((member: { address: string }) => member.address).sort()).toEqual([...addresses].sort());
    expect(addresses).toContain(view.leader.address);
    expect(view.members.filter((member: { role: string }) => member.role === 'leader')).toHaveLength(1);
    for (const member of view.members) expect(member).toMatchObject({ raft: 'voter', state: 'alive', lag: expect.any(Number), term: view.term });
    // Each member's release as it says itself, and the cluster version (raised once the leader heard every member).
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const member of view.members) expect(member.release).toBe(version);
    const text = await quorumq(['status']);
    expect(text.stdout).toMatch(/^leader \S+ at 127\.0\.0\.1:\d+, term \d+, commit index \d+, cluster version [12]\nID +ADDRESS +ROLE.* RELEASE +HEALTH/);
  });

  it('promote makes a delayed message ready, and says which ids it did not promote', async () => {
    const later = await json(['enqueue', 'cli.later', '"later"', '--delay-ms', '600000']);
    expect(await json(['get', 'cli.later', later.id])).toMatchObject({ state: 'delayed' });
    const run = await quorumq(['promote', 'cli.later', `${later.id},nope`]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^promoted 1 of 2 in cli\.later; not promoted: nope NOT_FOUND/);
    expect(await json(['get', 'cli.later', later.id])).toMatchObject({ state: 'ready' });
  });

  it('enqueue, get, queues and queues info show one message', async () => {
    const enqueued = await json(['enqueue', 'cli.jobs', '{"task":"resize","id":7}', '--priority', '5']);
    expect(enqueued).toEqual({ id: expect.any(String), seq: expect.any(Number) });
    const message = await json(['get', 'cli.jobs', enqueued.id]);
    expect(message).toMatchObject({ id: enqueued.id, state: 'ready', priority: 5, attempt: 0 });
    const list = await json(['queues']);
    expect(list.queues.find((queue: { name: string }) => queue.name === 'cli.jobs')).toMatchObject({ ready: 1, enqueued: 1 });
    const text = await quorumq(['queues']);
    expect(text.stdout).toMatch(/^QUEUE +DEPTH .*\ncli\.jobs +1 +1 /m);
    const info = await json(['queues', 'info', 'cli.jobs']);
    expect(info).toMatchObject({ name: 'cli.jobs', ready: 1, inflight: 0, config: { visibilityMs: 30_000 } });
  });

  it('queues configure changes the config by flags and by a JSON body', async () => {
    const configured = await json([
      'queues',
      'configure',
      'cli.jobs',
      '--visibility-ms',
      '1234',
      '--max-deliveries',
      '3',
      '--backoff-base-ms',
      '10',
      '--backoff-max-ms',
      '200',
    ]);
    expect(configured.config).toMatchObject({ visibilityMs: 1234, maxDeliveries: 3, backoff: { baseMs: 10, maxMs: 200 } });
    const created = await json(['queues', 'configure', 'cli.other', '{"messageTtlMs":60000}']);
    expect(created.config).toMatchObject({ messageTtlMs: 60_000 });
    const info = await json(['queues', 'info', 'cli.jobs']);
    expect(info.config).toMatchObject({ visibilityMs: 1234, maxDeliveries: 3 });
  });

  it('queues purge drops the messages and queues delete the queue; an unknown queue then exits 1 with NOT_FOUND', async () => {
    await json(['enqueue', 'cli.jobs', '"second"']);
    expect(await json(['queues', 'purge', 'cli.jobs'])).toEqual({ purged: 2 });
    expect(await json(['queues', 'info', 'cli.jobs'])).toMatchObject({ ready: 0 });
    await json(['queues', 'delete', 'cli.jobs']);
    const gone = await quorumq(['queues', 'info', 'cli.jobs', '--json']);
    expect(gone.code).toBe(EXIT.failed);
    expect(JSON.parse(gone.stdout)).toMatchObject({ error: { code: 'NOT_FOUND', status: 404 } });
    expect(gone.stderr).toMatch(/^quorumq: NOT_FOUND \(404\)/);
  });

  it('peek, pause, resume and redrive: dead letters looked at, then sent back with progress and totals', async () => {
    await json(['queues', 'configure', 'cli.dead', '{"maxDeliveries":1}']);
    for (let n = 0; n < 3; n++) await json(['enqueue', 'cli.dead', JSON.stringify({ n })]);
    const peeked = await json(['peek', 'cli.dead', '--limit', '2']);
    expect(peeked.messages.map((message: { body: { n: number } }) => message.body.n)).toEqual([0, 1]);
    expect(peeked.next).toEqual(expect.any(String));
    expect(await json(['pause', 'cli.dead'])).toEqual({ paused: true });
    expect(await json(['queues', 'info', 'cli.dead'])).toMatchObject({ paused: true, ready: 3 });
    expect(await json(['resume', 'cli.dead'])).toEqual({ paused: false });
    // Three dead letters: leased once each and given back, with maxDeliveries 1.
    const leased = await suite().request(0, 'POST', '/queues/cli.dead/receive', { max: 3 });
    const receipts = leased.body.messages.map((message: { receipt: string }) => message.receipt);
    await suite().request(0, 'POST', '/queues/cli.dead/nack', { receipts, delayMs: 0 });
    const dead = await waitFor(
      async () => {
        const page = await json(['peek', 'cli.dead.dlq']);
        return page.messages.length === 3 ? page : undefined;
      },
      10_000,
      'three dead letters',
    );
    expect(dead.messages[0]).toMatchObject({ deadLetter: { queue: 'cli.dead', reason: 'maxDeliveries' } });
    // One message a second: the node answers part of the move, and the command asks again, saying so.
    const slow = await quorumq(['redrive', 'cli.dead.dlq', '--max', '2', '--rate', '1', '--json']);
    expect(slow.code, slow.stderr).toBe(EXIT.ok);
    expect(JSON.parse(slow.stdout)).toEqual({ moved: 2, remaining: 1 });
    expect(await json(['redrive', 'cli.dead.dlq'])).toEqual({ moved: 1, remaining: 0 });
    expect(await json(['queues', 'info', 'cli.dead'])).toMatchObject({ ready: 3 });
  });

  it('tail prints messages enqueued after it started, as JSON lines, and consumes none', async () => {
    await json(['enqueue', 'cli.tail', '{"before":true}']);
    const lines: { id: string; body: unknown }[] = [];
    const io: CommandIo = { stdout: (text) => lines.push(JSON.parse(text)), stderr: () => undefined, env: {}, readStdin: async () => '' };
    const tailing = runOperatorCommand(['tail', 'cli.tail', '--count', '2', '--json', '--server', servers, ...credentials], io, []);
    // The tail starts past what is there when it first looks: enqueue until it has shown two.
    const enqueued: string[] = [];
    await waitFor(
      async () => {
        if (lines.length < 2) enqueued.push((await json(['enqueue', 'cli.tail', JSON.stringify({ n: enqueued.length })])).id);
        return lines.length >= 2 ? true : undefined;
      },
      15_000,
      'two messages shown by tail',
    );
    expect(await tailing).toBe(EXIT.ok);
    // Two messages enqueued one after the other, in order, none of them the one from before.
    const first = enqueued.indexOf(lines[0]!.id);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(lines.map((line) => line.id)).toEqual(enqueued.slice(first, first + 2));
    expect(lines.map((line) => line.body)).toEqual([{ n: first }, { n: first + 1 }]);
    expect(await json(['queues', 'info', 'cli.tail'])).toMatchObject({ ready: enqueued.length + 1, inflight: 0 });
  });

  it('passes over a node that cannot be reached', async () => {
    const [unused] = await freePorts(1);
    const run = await quorumq(['queues', '--json', '--server', `127.0.0.1:${unused},${servers}`, ...credentials], true);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout).queues.map((queue: { name: string }) => queue.name)).toContain('cli.other');
  });

  it('exits 0, 1 with the code (unknown queue, unknown message, bad token) and 2 (usage) as a process', () => {
    const ok = quorumqProcess(['queues', 'info', 'cli.other', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'cli.other' });
    const unknownQueue = quorumqProcess(['queues', 'info', 'cli.nope']);
    expect(unknownQueue.code).toBe(1);
    expect(unknownQueue.stderr).toMatch(/NOT_FOUND/);
    const unknownMessage = quorumqProcess(['get', 'cli.other', '12345']);
    expect(unknownMessage.code).toBe(1);
    expect(unknownMessage.stderr).toMatch(/NOT_FOUND/);
    const badToken = quorumqProcess(['queues', '--token', 'qq_notAtokenThisNodeKnows0000000000000000000000']);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/UNAUTHORIZED \(401\)/);
    const usage = quorumqProcess(['queues', 'info']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/queues info needs QUEUE/);
  });
});
