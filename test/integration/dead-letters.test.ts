import { beforeEach, describe, expect, it } from 'vitest';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal: a poison message that keeps failing ends in the dead-letter queue, never silently away.
describe('dead letters through HTTP', () => {
  const suite = clusterForSuite(1);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  it('moves a message to <queue>.dlq after maxDeliveries leases ran out, with its origin', async () => {
    const configured = await test.request(0, 'PUT', '/queues/jobs', { maxDeliveries: 2, visibilityMs: 200 });
    expect(configured.body).toMatchObject({ maxDeliveries: 2, deadLetterQueue: 'jobs.dlq' });
    const { id } = await test.enqueue(0, 'jobs', { task: 'poison' }, 'poison-1');
    for (let attempt = 1; attempt <= 2; attempt++) {
      const delivery = await waitFor(
        async () => {
          const reply = await test.request(0, 'POST', '/queues/jobs/receive', { waitMs: 1000 });
          return reply.body.messages[0];
        },
        10_000,
        `delivery ${attempt}`,
      );
      expect(delivery).toMatchObject({ id, attempt });
    }
    const dead = await waitFor(
      async () => {
        const reply = await test.request(0, 'POST', '/queues/jobs.dlq/receive', { waitMs: 1000 });
        return reply.body?.messages?.[0];
      },
      10_000,
      'the message in the dead-letter queue',
    );
    expect(dead).toMatchObject({ body: { task: 'poison' }, deadLetter: { queue: 'jobs', id, reason: 'maxDeliveries', attempts: 2 } });
    const stats = await test.request(0, 'GET', '/queues/jobs');
    expect(stats.body).toMatchObject({ ready: 0, inflight: 0, dead: 1 });
  });

  it('refuses a queue that would dead-letter into itself, and takes a message TTL', async () => {
    const self = await test.request(0, 'PUT', '/queues/loop', { deadLetterQueue: 'loop' });
    expect(self.status).toBe(400);
    const ttl = await test.request(0, 'PUT', '/queues/expiring', { messageTtlMs: 1000 });
    expect(ttl.status).toBe(201);
    expect(ttl.body).toMatchObject({ messageTtlMs: 1000, deadLetterQueue: 'expiring.dlq' });
  });

  it('sends a poison message to the dead-letter queue by default, after 20 deliveries', async () => {
    const { id } = await test.enqueue(0, 'by-default', { task: 'poison' }, 'poison-default');
    expect((await test.request(0, 'GET', '/queues/by-default')).body.config).toMatchObject({ maxDeliveries: 20 });
    for (let attempt = 1; attempt <= 20; attempt++) {
      const delivered = await test.request(0, 'POST', '/queues/by-default/receive', { waitMs: 2000 });
      expect(delivered.body.messages).toMatchObject([{ id, attempt }]);
      await test.request(0, 'POST', '/queues/by-default/nack', { receipts: [delivered.body.messages[0].receipt], delayMs: 0 });
    }
    const dead = await waitFor(
      async () => (await test.request(0, 'POST', '/queues/by-default.dlq/receive', { waitMs: 1000 })).body?.messages?.[0],
      10_000,
      'the poison message in the dead-letter queue',
    );
    expect(dead).toMatchObject({ body: { task: 'poison' }, deadLetter: { queue: 'by-default', id, reason: 'maxDeliveries', attempts: 20 } });
    // The dead-letter queue keeps unlimited deliveries: its dead letters have nowhere further to go.
    expect((await test.request(0, 'GET', '/queues/by-default.dlq')).body.config).toMatchObject({ maxDeliveries: 0 });
  });
});
