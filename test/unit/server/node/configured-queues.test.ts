import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfiguredQueues } from '../../../../src/server/node/configured-queues.ts';
import { RequestError, type WriteRequest } from '../../../../src/shared/index.ts';

// Goal: the config file's queues are configured once a leader is known, one configure each through
// the request path, retried while it fails, and abandoned when the node stops.

const log = pino({ level: 'silent' });
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('queues from the config file', () => {
  it('waits for a leader, then configures each queue once, however often a leader is known again', async () => {
    const written: WriteRequest[] = [];
    const queues = new ConfiguredQueues({
      queues: { orders: { visibilityMs: 30_000 }, audit: {} },
      write: async (request) => written.push(request),
      retryFirstMs: 1,
      retryMaxMs: 1,
      log,
    });
    await settle();
    expect(written).toEqual([]);
    queues.onLeaderKnown();
    queues.onLeaderKnown();
    await settle();
    queues.onLeaderKnown();
    await settle();
    expect(written).toEqual([
      { op: 'configure', queue: 'orders', config: { visibilityMs: 30_000 } },
      { op: 'configure', queue: 'audit', config: {} },
    ]);
  });

  it('retries a configure that fails until it succeeds', async () => {
    let attempts = 0;
    const queues = new ConfiguredQueues({
      queues: { orders: {} },
      write: async () => {
        attempts++;
        if (attempts < 3) throw new RequestError('NO_LEADER', 'no leader yet');
        return { created: true };
      },
      retryFirstMs: 1,
      retryMaxMs: 2,
      log,
    });
    queues.onLeaderKnown();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(attempts).toBe(3);
  });

  it('gives up when the node stops, and starts nothing after', async () => {
    let attempts = 0;
    const queues = new ConfiguredQueues({
      queues: { orders: {}, audit: {} },
      write: async () => {
        attempts++;
        throw new RequestError('NO_LEADER', 'no leader yet');
      },
      retryFirstMs: 60_000,
      retryMaxMs: 60_000,
      log,
    });
    queues.onLeaderKnown();
    await settle();
    queues.stop();
    await settle();
    expect(attempts).toBe(1);
    const stopped = new ConfiguredQueues({ queues: { orders: {} }, write: async () => attempts++, retryFirstMs: 1, retryMaxMs: 1, log });
    stopped.stop();
    stopped.onLeaderKnown();
    await settle();
    expect(attempts).toBe(1);
  });
});
