import { describe, expect, it } from 'vitest';
import { QuorumqError } from '../../../src/client/client-errors.ts';
import type { NodeConnection } from '../../../src/client/node-connection.ts';
import { Subscription, type SubscriptionClient } from '../../../src/client/subscription.ts';

/** Stands in for a connection: a subscription only compares it and unsubscribes through it. */
function fakeConnection(): NodeConnection {
  return { isOpen: true, address: 'fake:1', request: async () => undefined } as unknown as NodeConnection;
}

// Goal: a subscription that loses its node resubscribes on retryable failures, but stops for good
// when the cluster refuses its token or its right (asking again cannot change that answer).
describe('a subscription refused on resubscribe', () => {
  it('ends at the first UNAUTHORIZED or FORBIDDEN and reports it once', async () => {
    for (const code of ['UNAUTHORIZED', 'FORBIDDEN'] as const) {
      const first = fakeConnection();
      const answers: (() => Promise<{ id: number; connection: NodeConnection }>)[] = [
        async () => ({ id: 1, connection: first }),
        async () => {
          throw new QuorumqError('UNAVAILABLE', 'node gone');
        },
        async () => {
          throw new QuorumqError(code, 'refused');
        },
      ];
      let calls = 0;
      const link: SubscriptionClient = {
        subscribe: () => answers[Math.min(calls++, answers.length - 1)]!(),
        nackAfterBackoff: async () => undefined,
        forget: () => undefined,
        requestTimeoutMs: 1000,
      };
      const errors: string[] = [];
      const subscription = new Subscription('q', () => undefined, { prefetch: 1, onError: (error) => errors.push((error as QuorumqError).code) }, link);
      await subscription.attach();
      subscription.onConnectionLost(first);
      const deadline = Date.now() + 10_000;
      while (!subscription.isClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(subscription.isClosed).toBe(true);
      expect(errors).toEqual(['UNAVAILABLE', code]);
      // Closed for good: no further attempt follows the refusal.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(calls).toBe(3);
    }
  });
});
