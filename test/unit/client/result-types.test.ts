import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AckResult,
  type ClusterResult,
  type ConfigureResult,
  connect,
  type DeleteResult,
  type Delivery,
  type EffectiveQueueConfig,
  type EnqueueBatchResult,
  type EnqueueResult,
  type ListQueuesResult,
  type MessageStatusResult,
  type PurgeResult,
  type QueueConfigInput,
  type QueueStatsResult,
  type QuorumqClient,
  type ReceiveResult,
  type ResultOf,
  type Settled,
  type SettleRejection,
  type SubscribeResult,
  type Subscription,
} from '../../../src/client/index.ts';
import type { MessageStatus, QueueConfig, QueueResult, QueueStats, Rejection } from '../../../src/queue/index.ts';
import type { ClusterView } from '../../../src/server/membership/index.ts';
import type { ClientRequest, ResultFor, SocketRequest } from '../../../src/shared/index.ts';
import { FakeNode } from './fake-node.ts';

// Goal: the SDK's calls return the result types the shared protocol declares, and those types are
// what the node's own code produces. The `expectTypeOf` checks are compile-time: `npm run
// typecheck` fails when they fail (vitest runs them as no-ops).

/** The public calls of the SDK whose answer would be `unknown`: there must be none. */
type UntypedCalls = {
  [K in keyof QuorumqClient]: QuorumqClient[K] extends (...args: never[]) => infer Returned ? (unknown extends Awaited<Returned> ? K : never) : never;
}[keyof QuorumqClient];

describe('typed results', () => {
  it('every public SDK call returns its declared result type', () => {
    expectTypeOf<UntypedCalls>().toEqualTypeOf<never>();
    expectTypeOf<QuorumqClient['enqueue']>().returns.toEqualTypeOf<Promise<EnqueueResult>>();
    expectTypeOf<QuorumqClient['enqueueBatch']>().returns.toEqualTypeOf<Promise<EnqueueBatchResult>>();
    expectTypeOf<QuorumqClient['receive']>().returns.toEqualTypeOf<Promise<Delivery[]>>();
    expectTypeOf<QuorumqClient['ack']>().returns.toEqualTypeOf<Promise<Settled>>();
    expectTypeOf<QuorumqClient['nack']>().returns.toEqualTypeOf<Promise<Settled>>();
    expectTypeOf<QuorumqClient['extend']>().returns.toEqualTypeOf<Promise<Settled>>();
    expectTypeOf<QuorumqClient['configureQueue']>().returns.toEqualTypeOf<Promise<ConfigureResult>>();
    expectTypeOf<QuorumqClient['getQueue']>().returns.toEqualTypeOf<Promise<QueueStatsResult>>();
    expectTypeOf<QuorumqClient['cluster']>().returns.toEqualTypeOf<Promise<ClusterResult>>();
    expectTypeOf<QuorumqClient['subscribe']>().returns.toEqualTypeOf<Promise<Subscription>>();
    expectTypeOf<Settled['rejected'][number]>().toEqualTypeOf<SettleRejection>();
  });

  it('a request names its result by op, and an enqueue by its batch flag', () => {
    type Enqueue = Extract<ClientRequest, { op: 'enqueue' }>;
    expectTypeOf<ResultFor<Enqueue & { batch: true }>>().toEqualTypeOf<EnqueueBatchResult>();
    expectTypeOf<ResultFor<Enqueue & { batch: false }>>().toEqualTypeOf<EnqueueResult>();
    expectTypeOf<ResultFor<Enqueue>>().toEqualTypeOf<EnqueueResult | EnqueueBatchResult>();
    expectTypeOf<ResultFor<Extract<SocketRequest, { op: 'subscribe' }>>>().toEqualTypeOf<SubscribeResult>();
    expectTypeOf<ResultFor<Extract<ClientRequest, { op: 'getMessage' }>>>().toEqualTypeOf<MessageStatusResult>();
    expectTypeOf<ResultOf<'ack'>>().toEqualTypeOf<AckResult>();
    expectTypeOf<ResultOf<'purge'>>().toEqualTypeOf<PurgeResult>();
    expectTypeOf<ResultOf<'delete'>>().toEqualTypeOf<DeleteResult>();
    expectTypeOf<ResultOf<'listQueues'>>().toEqualTypeOf<ListQueuesResult>();
  });

  // src/shared imports nothing from the folders above it, so the wire types mirror the queue's and
  // the server's own; these checks fail the typecheck when either side changes alone.
  it('the wire types are exactly what the queue and the server produce', () => {
    expectTypeOf<QueueStats>().toEqualTypeOf<QueueStatsResult>();
    expectTypeOf<QueueConfig>().toEqualTypeOf<EffectiveQueueConfig>();
    expectTypeOf<MessageStatus>().toEqualTypeOf<MessageStatusResult>();
    expectTypeOf<Rejection>().toEqualTypeOf<SettleRejection>();
    expectTypeOf<ClusterView>().toEqualTypeOf<ClusterResult>();
    expectTypeOf<Extract<QueueResult, { type: 'enqueued' }>>().toMatchTypeOf<EnqueueBatchResult>();
    expectTypeOf<Extract<QueueResult, { type: 'received' }>['messages']>().toEqualTypeOf<ReceiveResult['messages']>();
    expectTypeOf<Extract<QueueResult, { type: 'settled' }>['rejected']>().toEqualTypeOf<AckResult['rejected']>();
    // What `configure` takes is what a queue runs with, every field optional.
    expectTypeOf<Required<QueueConfigInput>>().toEqualTypeOf<EffectiveQueueConfig>();
  });
});

// Runtime: the typed calls hand over the node's answer as it came (no copying, no checking).
describe('typed results on the wire', () => {
  const config: EffectiveQueueConfig = {
    visibilityMs: 30_000,
    maxDeliveries: 0,
    deadLetterQueue: 'jobs.dlq',
    backoff: { baseMs: 1000, maxMs: 60_000 },
    dedupWindowMs: 300_000,
    maxLength: 1_000_000,
    maxBytes: 512 * 1024 * 1024,
    messageTtlMs: 0,
    retentionMs: 300_000,
  };
  const stats: QueueStatsResult = {
    name: 'jobs',
    ready: 1,
    inflight: 0,
    delayed: 0,
    dead: 0,
    enqueued: 1,
    acked: 0,
    bytes: 3,
    paused: false,
    nacked: 0,
    leaseExpired: 0,
    expired: 0,
    config,
  };
  const view: ClusterResult = {
    self: { id: 'n1', address: '127.0.0.1:1', role: 'leader', term: 2, commitIndex: 5, appliedIndex: 5, recovering: false },
    leader: { id: 'n1', address: '127.0.0.1:1' },
    members: [{ id: 'n1', address: '127.0.0.1:1', state: 'alive', inGossip: true, voter: true, raft: 'voter', connected: true, matchIndex: 5 }],
    clusterVersion: 1,
  };
  let node: FakeNode;
  let client: QuorumqClient;

  beforeEach(async () => {
    node = await FakeNode.start((frame) => {
      switch (frame.op) {
        case 'configure':
          return { created: true, config, name: frame.queue } satisfies ConfigureResult;
        case 'getQueue':
          return stats;
        case 'cluster':
          return view;
        default:
          return {};
      }
    });
    client = connect({ nodes: [node.address], retryForMs: 2000, requestTimeoutMs: 2000 });
  });

  afterEach(async () => {
    client.close();
    await node.stop();
  });

  it('configureQueue, getQueue and cluster answer the result as the node sent it', async () => {
    const configured = await client.configureQueue('jobs', { visibilityMs: 30_000 });
    expect(configured).toEqual({ created: true, config, name: 'jobs' });
    expect(configured.config.deadLetterQueue).toBe('jobs.dlq');
    const queue = await client.getQueue('jobs');
    expect(queue).toEqual(stats);
    expect(queue.ready).toBe(1);
    const cluster = await client.cluster({ stale: true });
    expect(cluster).toEqual(view);
    expect(cluster.self.role).toBe('leader');
  });
});
