import { afterEach, describe, expect, it } from 'vitest';
import { connect, type QuorumqClient, QuorumqError } from '../../../src/client/index.ts';
import type { ClientFrame } from '../../../src/shared/index.ts';
import { FakeNode, Refusal } from './fake-node.ts';

// Goal: a node that refuses with a retryable code and says how long to wait (an election, a raise
// of the cluster version under way, a full buffer) is not asked again sooner.
describe('the SDK and retryAfterMs', () => {
  let fake: FakeNode | undefined;
  let client: QuorumqClient | undefined;

  afterEach(async () => {
    client?.close();
    await fake?.stop();
  });

  it('waits at least what the node said before the next attempt, and no longer than its deadline allows', async () => {
    const askedAt: number[] = [];
    fake = await FakeNode.start((frame: ClientFrame) => {
      if (frame.op === 'cluster') return { self: { role: 'leader' }, leader: { id: 'l', address: fake!.address } };
      askedAt.push(performance.now());
      if (askedAt.length === 1) return new Refusal({ code: 'UNAVAILABLE', message: 'raising the cluster version', retryAfterMs: 400 });
      return { promoted: 1, rejected: [] };
    });
    client = connect({ nodes: [fake.address], retryForMs: 5000, requestTimeoutMs: 2000 });
    expect(await client.promote('jobs', ['1'])).toEqual({ promoted: 1, rejected: [] });
    expect(askedAt).toHaveLength(2);
    expect(askedAt[1]! - askedAt[0]!).toBeGreaterThanOrEqual(400);
  });

  it('takes no more than its cap from a node, and none that is not a number', () => {
    expect(new QuorumqError('UNAVAILABLE', 'x', undefined, 10 ** 9).retryAfterMs).toBe(30_000);
    expect(new QuorumqError('UNAVAILABLE', 'x', undefined, -1).retryAfterMs).toBeUndefined();
    expect(new QuorumqError('UNAVAILABLE', 'x', undefined, Number.NaN).retryAfterMs).toBeUndefined();
  });
});
