import { beforeEach, describe, expect, it } from 'vitest';
import { clusterForSuite, type TestCluster } from './cluster-harness.ts';

// Goal: full queues and a full node refuse producers with 429 QUEUE_FULL; nothing is dropped.
describe('queue and node limits', () => {
  const suite = clusterForSuite(1, ['--memory-budget-mb', '1']);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  it('refuses an enqueue past a queue maxLength with 429 QUEUE_FULL and keeps what it holds', async () => {
    const configured = await test.request(0, 'PUT', '/queues/small', { maxLength: 2 });
    expect(configured.status).toBe(201);
    expect(configured.body.maxLength).toBe(2);
    for (const body of ['a', 'b']) expect((await test.request(0, 'POST', '/queues/small/messages', { body })).status).toBe(201);
    const refused = await test.request(0, 'POST', '/queues/small/messages', { body: 'c' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('QUEUE_FULL');
    const stats = await test.request(0, 'GET', '/queues/small');
    expect(stats.body.ready).toBe(2);
  });

  it('refuses enqueues past the node memory budget with 429 QUEUE_FULL', async () => {
    const big = 'x'.repeat(600 * 1024);
    expect((await test.request(0, 'POST', '/queues/heavy/messages', { body: big })).status).toBe(201);
    const refused = await test.request(0, 'POST', '/queues/heavy/messages', { body: big });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('QUEUE_FULL');
    const received = await test.request(0, 'POST', '/queues/heavy/receive', {});
    await test.request(0, 'POST', '/queues/heavy/ack', { receipts: [received.body.messages[0].receipt] });
    expect((await test.request(0, 'POST', '/queues/heavy/messages', { body: big })).status).toBe(201);
  });
});
