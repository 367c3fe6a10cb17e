import { beforeEach, describe, expect, it } from 'vitest';
import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
import { connect, QuorumqError } from '../../src/client/index.ts';
import { tokensFor } from '../support/auth-tokens.ts';
import { ClientSocket } from '../support/client-socket.ts';
import { clusterForSuite, GiveUp, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: with an auth file, every client request names a token the node knows (401 otherwise), and
// does only what that token grants (403 otherwise), over HTTP, the raw WebSocket protocol and the
// SDK alike; refusals and admin actions leave audit lines.
const { tokens, setup } = tokensFor(
  {
    admin: { actions: ['admin'] },
    'jobs-app': { actions: ['produce', 'consume'], queues: ['jobs*'] },
    reader: { actions: ['read'] },
    'jobs-reader': { actions: ['read'], queues: ['jobs*'] },
  },
  'admin',
);
const as = (name: keyof typeof tokens): NodeAccess => ({ token: tokens[name] });
const NO_TOKEN: NodeAccess = {};
/** Well formed, the right length and prefix, and in no auth file. */
const WRONG_TOKEN = 'qq_notAtokenThisNodeKnows0000000000000000000000';

describe('client authentication and authorization', () => {
  const suite = clusterForSuite(1, [], setup);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  /** The node's JSON log lines (the harness prefixes each with its port). */
  function logLines(): Record<string, unknown>[] {
    return test.lines.flatMap((line) => {
      try {
        return [JSON.parse(line.slice(line.indexOf(' ') + 1)) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  describe('audit log', () => {
    it('has a line for a refused request and for an admin action, each naming the token and the op', async () => {
      // Refusal lines are rate-limited (a few per window, the rest counted): ask again until one gets through.
      const refused = await waitFor(
        async () => {
          const reply = await test.request(0, 'POST', '/queues/other.audit/messages', { body: 1 }, undefined, as('jobs-app'));
          if (reply.status !== 403) throw new GiveUp(`the enqueue answered ${reply.status}: ${JSON.stringify(reply.body)}`);
          const line = logLines().find((entry) => entry.audit === 'refused' && String(entry.reason).includes('other.audit'));
          if (line === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
          return line;
        },
        30_000,
        'an audit line for the refused enqueue',
      );
      expect(refused.code).toBe('FORBIDDEN');
      expect(refused.reason).toMatch(/jobs-app/);
      expect(refused.reason).toMatch(/\benqueue\b/);

      const configured = await test.request(0, 'PUT', '/queues/jobs.audited', { visibilityMs: 5000 });
      expect(configured.status).toBe(201);
      const admin = await waitFor(
        async () => logLines().find((entry) => entry.audit === 'admin' && entry.op === 'configure' && entry.resource === 'jobs.audited'),
        10_000,
        'an audit line for the configure',
      );
      expect(admin.token).toBe('admin');
    });
  });

  describe('HTTP', () => {
    it('refuses a request without a token with 401 UNAUTHORIZED and a www-authenticate challenge', async () => {
      const reply = await test.request(0, 'POST', '/queues/jobs.a/messages', { body: 1 }, undefined, NO_TOKEN);
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('UNAUTHORIZED');
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
      const read = await test.request(0, 'GET', '/queues', undefined, undefined, NO_TOKEN);
      expect(read.status).toBe(401);
    });

    it('refuses a wrong token with 401', async () => {
      const reply = await test.request(0, 'POST', '/queues/jobs.a/messages', { body: 1 }, undefined, { token: WRONG_TOKEN });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('UNAUTHORIZED');
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('lets jobs-app enqueue to jobs.a but not configure it (admin)', async () => {
      const enqueued = await test.request(0, 'POST', '/queues/jobs.a/messages', { body: { task: 1 } }, undefined, as('jobs-app'));
      expect(enqueued.status).toBe(201);
      const configured = await test.request(0, 'PUT', '/queues/jobs.a', { visibilityMs: 1000 }, undefined, as('jobs-app'));
      expect(configured.status).toBe(403);
      expect(configured.body.error.code).toBe('FORBIDDEN');
      const purged = await test.request(0, 'POST', '/queues/jobs.a/purge', undefined, undefined, as('jobs-app'));
      expect(purged.status).toBe(403);
      // Nothing was changed by the refused admin calls.
      const stats = await test.request(0, 'GET', '/queues/jobs.a');
      expect(stats.body.ready).toBeGreaterThanOrEqual(1);
      expect(stats.body.config.visibilityMs).not.toBe(1000);
    });

    it('refuses jobs-app an enqueue to a queue outside jobs*, and nothing is enqueued there', async () => {
      const reply = await test.request(0, 'POST', '/queues/other/messages', { body: 'sneaky' }, undefined, as('jobs-app'));
      expect(reply.status).toBe(403);
      expect(reply.body.error.code).toBe('FORBIDDEN');
      const stats = await test.request(0, 'GET', '/queues/other');
      // An enqueue creates its queue: a queue that does not exist holds nothing.
      expect(stats.status).toBe(404);
    });

    it('lets reader list queues but not enqueue', async () => {
      expect((await test.request(0, 'POST', '/queues/jobs.listed/messages', { body: 1 })).status).toBe(201);
      const listing = await test.request(0, 'GET', '/queues', undefined, undefined, as('reader'));
      expect(listing.status).toBe(200);
      expect(listing.body.queues.map((queue: { name: string }) => queue.name)).toContain('jobs.listed');
      const enqueued = await test.request(0, 'POST', '/queues/jobs.listed/messages', { body: 2 }, undefined, as('reader'));
      expect(enqueued.status).toBe(403);
      expect(enqueued.body.error.code).toBe('FORBIDDEN');
    });

    it('serves GET /health without a token', async () => {
      const health = await test.request(0, 'GET', '/health', undefined, undefined, NO_TOKEN);
      expect(health.status).toBe(200);
    });

    it('guards GET /admin/backup: no token 401, reader 403, admin 200 with a backup', async () => {
      const backup = (access: NodeAccess) => nodeRequest(test.cluster.nodes[0]!.address, '/admin/backup', access);
      expect((await backup(NO_TOKEN)).status).toBe(401);
      const forbidden = await backup(as('reader'));
      expect(forbidden.status).toBe(403);
      expect(JSON.parse(forbidden.text).error.code).toBe('FORBIDDEN');
      const allowed = await backup(as('admin'));
      expect(allowed.status).toBe(200);
      expect(JSON.parse(allowed.text.slice(0, allowed.text.indexOf('\n')))).toMatchObject({ format: 'quorumq-backup', version: 1 });
    });

    it('guards /metrics: no token 401, jobs-app (no read) 403, reader 200', async () => {
      // Read as text: a success is Prometheus text, not JSON.
      const metrics = (access: NodeAccess) => nodeRequest(test.cluster.nodes[0]!.address, '/metrics', access);
      const anonymous = await metrics(NO_TOKEN);
      expect(anonymous.status).toBe(401);
      expect(anonymous.text).not.toMatch(/quorumq_/);
      const forbidden = await metrics(as('jobs-app'));
      expect(forbidden.status).toBe(403);
      expect(JSON.parse(forbidden.text).error.code).toBe('FORBIDDEN');
      const allowed = await metrics(as('reader'));
      expect(allowed.status).toBe(200);
      expect(allowed.text).toMatch(/quorumq_raft_term/);
    });

    it('refuses a listing to jobs-app (no read right)', async () => {
      const listing = await test.request(0, 'GET', '/queues', undefined, undefined, as('jobs-app'));
      expect(listing.status).toBe(403);
      expect(listing.body.error.code).toBe('FORBIDDEN');
    });

    it('cuts a listing to the queues the token may read', async () => {
      expect((await test.request(0, 'POST', '/queues/jobs.seen/messages', { body: 1 })).status).toBe(201);
      expect((await test.request(0, 'POST', '/queues/misc.hidden/messages', { body: 1 })).status).toBe(201);
      const everything = await test.request(0, 'GET', '/queues', undefined, undefined, as('reader'));
      const all = everything.body.queues.map((queue: { name: string }) => queue.name);
      expect(all).toEqual(expect.arrayContaining(['jobs.seen', 'misc.hidden']));
      const listing = await test.request(0, 'GET', '/queues', undefined, undefined, as('jobs-reader'));
      expect(listing.status).toBe(200);
      const names: string[] = listing.body.queues.map((queue: { name: string }) => queue.name);
      expect(names).toContain('jobs.seen');
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((name) => name.startsWith('jobs'))).toBe(true);
      // And a queue outside the token's patterns cannot be read one by one either.
      expect((await test.request(0, 'GET', '/queues/misc.hidden', undefined, undefined, as('jobs-reader'))).status).toBe(403);
    });
  });

  describe('WebSocket', () => {
    const wsUrl = () => `ws://${test.cluster.nodes[0]!.address}/ws`;

    it('refuses an upgrade with a wrong Authorization header with 401', async () => {
      const outcome = await ClientSocket.upgrade(wsUrl(), { headers: { authorization: `Bearer ${WRONG_TOKEN}` } });
      if (outcome.kind === 'open') outcome.socket.close();
      expect(outcome.kind).toBe('refused');
      expect(outcome.kind === 'refused' && outcome.status).toBe(401);
      expect(outcome.kind === 'refused' && JSON.parse(outcome.body).error.code).toBe('UNAUTHORIZED');
    });

    it('takes an auth frame after an upgrade without a header, then serves requests', async () => {
      const socket = await ClientSocket.open(wsUrl());
      try {
        const auth = await socket.request({ id: 1, op: 'auth', token: tokens['jobs-app'] });
        expect(auth).toMatchObject({ id: 1, ok: true, result: { name: 'jobs-app' } });
        const enqueued = await socket.request({ id: 2, op: 'enqueue', queue: 'jobs.ws', body: 'over the socket' });
        expect(enqueued).toMatchObject({ id: 2, ok: true });
        expect(typeof enqueued.result.id).toBe('string');
        const other = await socket.request({ id: 3, op: 'enqueue', queue: 'other.ws', body: 'no' });
        expect(other).toMatchObject({ id: 3, ok: false, error: { code: 'FORBIDDEN' } });
      } finally {
        socket.close();
      }
    });

    it('answers a request before auth with an UNAUTHORIZED error frame, and a wrong auth frame too', async () => {
      const socket = await ClientSocket.open(wsUrl());
      try {
        const early = await socket.request({ id: 1, op: 'enqueue', queue: 'jobs.early', body: 'too soon' });
        expect(early).toMatchObject({ id: 1, ok: false, error: { code: 'UNAUTHORIZED' } });
        const wrong = await socket.request({ id: 2, op: 'auth', token: WRONG_TOKEN });
        expect(wrong).toMatchObject({ id: 2, ok: false, error: { code: 'UNAUTHORIZED' } });
        const still = await socket.request({ id: 3, op: 'listQueues' });
        expect(still).toMatchObject({ id: 3, ok: false, error: { code: 'UNAUTHORIZED' } });
      } finally {
        socket.close();
      }
      expect((await test.request(0, 'GET', '/queues/jobs.early')).status).toBe(404);
    });

    it('serves the SDK with the right token: enqueue and receive', async () => {
      const client = connect({ nodes: [test.cluster.nodes[0]!.address], token: tokens['jobs-app'] });
      try {
        await client.enqueue('jobs.sdk', { n: 1 });
        const [job] = await client.receive('jobs.sdk', { waitMs: 5000 });
        expect(job?.body).toEqual({ n: 1 });
        await client.ack('jobs.sdk', { receipts: [job!.receipt] });
      } finally {
        client.close();
      }
    });

    it('gives the SDK a final FORBIDDEN for a queue its token lacks, without retrying', async () => {
      const [before] = await test.metrics(0, ['quorumq_requests_total{op="enqueue",code="FORBIDDEN"}'] as const).catch(() => [0]);
      // A budget far longer than the wait below: only a final error rejects within the wait.
      const client = connect({ nodes: [test.cluster.nodes[0]!.address], token: tokens['jobs-app'], retryForMs: 90_000 });
      try {
        const outcome = await Promise.race([
          client.enqueue('other.sdk', 'no').then(
            () => 'resolved' as const,
            (error: unknown) => error,
          ),
          new Promise<'still retrying'>((resolve) => setTimeout(() => resolve('still retrying'), 30_000)),
        ]);
        expect(outcome).toBeInstanceOf(QuorumqError);
        expect((outcome as QuorumqError).code).toBe('FORBIDDEN');
        expect((outcome as QuorumqError).retryable).toBe(false);
      } finally {
        client.close();
      }
      // The node saw exactly one refused enqueue: the SDK did not try again.
      const [after] = await test.metrics(0, ['quorumq_requests_total{op="enqueue",code="FORBIDDEN"}'] as const);
      expect(after - before).toBe(1);
      expect((await test.request(0, 'GET', '/queues/other.sdk')).status).toBe(404);
    });

    it('gives the SDK a final UNAUTHORIZED for a wrong token', async () => {
      const client = connect({ nodes: [test.cluster.nodes[0]!.address], token: WRONG_TOKEN, retryForMs: 90_000 });
      try {
        const outcome = await Promise.race([
          client.enqueue('jobs.sdk', 'no').then(
            () => 'resolved' as const,
            (error: unknown) => error,
          ),
          new Promise<'still retrying'>((resolve) => setTimeout(() => resolve('still retrying'), 30_000)),
        ]);
        expect(outcome).toBeInstanceOf(QuorumqError);
        expect((outcome as QuorumqError).code).toBe('UNAUTHORIZED');
      } finally {
        client.close();
      }
    });
  });
});
