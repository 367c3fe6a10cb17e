import type { Logger } from 'pino';
import type { QueueStateMachine } from '../../queue/index.ts';
import { defaultQueueConfig, QUEUE_LIMITS } from '../../queue/index.ts';
import { assert, type ClientRequest, type PushFrame, RequestError, SUBSCRIPTION_LIMITS, type SubscriptionRequest } from '../../shared/index.ts';
import type { RequestPath } from '../requests/index.ts';
import { RETRY_AFTER_MS } from '../requests/index.ts';
import { PushSubscription } from './push-subscription.ts';

// One receive must be able to fill a whole prefetch, and one nack give it all back.
assert(SUBSCRIPTION_LIMITS.prefetchMax <= QUEUE_LIMITS.receiveMax, 'prefetchMax exceeds what one receive delivers');
assert(SUBSCRIPTION_LIMITS.prefetchMax <= QUEUE_LIMITS.idsPerRequestMax, 'prefetchMax exceeds what one nack settles');

/** Subscriptions one node hosts across all its connections. */
export const SUBSCRIPTIONS_PER_NODE_MAX = 4096;

export interface SubscriptionRegistryOptions {
  /** The path every client write takes: subscriptions lease and settle through it, on any node. */
  readonly requests: Pick<RequestPath, 'write'>;
  /** This node's replica: a subscription without its own visibility takes its queue's. */
  readonly machine: QueueStateMachine;
  readonly log: Logger;
}

/**
 * Every push subscription this node hosts, with the node-wide bound. Each client connection gets
 * its own view (`forConnection`); frames and settles on a connection reach only its subscriptions.
 */
export class SubscriptionRegistry {
  private count = 0;
  private stopped = false;
  private readonly connections = new Set<ConnectionSubscriptions>();

  constructor(private readonly options: SubscriptionRegistryOptions) {}

  get size(): number {
    return this.count;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  forConnection(push: (frame: PushFrame) => boolean): ConnectionSubscriptions {
    const connection = new ConnectionSubscriptions(this, push);
    this.connections.add(connection);
    return connection;
  }

  /**
   * The node is stopping: every loop ends, and no lease is given back. Leases belong to the
   * cluster, not to this node: the subscriber reconnects elsewhere and settles them there.
   */
  stop(): void {
    this.stopped = true;
    for (const connection of this.connections) connection.close();
  }

  /** Internal to the subscriptions of this node: a new one, if the node-wide bound allows. */
  create(
    id: number,
    request: Extract<SubscriptionRequest, { op: 'subscribe' }>,
    push: (frame: PushFrame) => boolean,
    onFinished: (subscription: PushSubscription) => void,
  ): PushSubscription {
    if (this.stopped) throw new RequestError('SHUTTING_DOWN', 'this node is shutting down', RETRY_AFTER_MS.goneHere);
    if (this.count >= SUBSCRIPTIONS_PER_NODE_MAX) {
      throw new RequestError(
        'OVERLOADED',
        `this node hosts its limit of ${SUBSCRIPTIONS_PER_NODE_MAX} subscriptions; try another node`,
        RETRY_AFTER_MS.useAnotherNode,
      );
    }
    this.count++;
    const spec = { queue: request.queue, prefetch: request.prefetch, visibilityMs: request.visibilityMs };
    return new PushSubscription(id, spec, {
      write: (writeRequest) => this.options.requests.write(writeRequest),
      queueVisibilityMs: (queue) => this.options.machine.stats(queue)?.config.visibilityMs ?? defaultQueueConfig(queue).visibilityMs,
      push,
      onFinished: (subscription) => {
        this.count--;
        assert(this.count >= 0, 'more subscriptions finished than were created');
        onFinished(subscription);
      },
      log: this.options.log,
    });
  }

  forget(connection: ConnectionSubscriptions): void {
    this.connections.delete(connection);
  }
}

/** The subscriptions of one client connection, numbered from 1 in the order they were made. */
export class ConnectionSubscriptions {
  private readonly byId = new Map<number, PushSubscription>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly push: (frame: PushFrame) => boolean,
  ) {}

  handle(request: SubscriptionRequest): unknown {
    if (this.closed) throw new RequestError('UNAVAILABLE', 'the connection is closing', RETRY_AFTER_MS.goneHere);
    if (request.op === 'unsubscribe') return this.unsubscribe(request.subscription);
    if (this.byId.size >= SUBSCRIPTION_LIMITS.perConnectionMax) {
      throw new RequestError(
        'BAD_REQUEST',
        `a connection may hold at most ${SUBSCRIPTION_LIMITS.perConnectionMax} subscriptions (unsubscribed ones count until their leases are settled)`,
      );
    }
    const subscription = this.registry.create(this.nextId++, request, this.push, (finished) => this.byId.delete(finished.id));
    this.byId.set(subscription.id, subscription);
    subscription.start();
    return { subscription: subscription.id };
  }

  /** Every answered request on this connection; settles return credit to the subscriptions. */
  onAnswered(request: ClientRequest, result: unknown): void {
    if (request.op !== 'ack' && request.op !== 'nack' && request.op !== 'extend') return;
    for (const subscription of this.byId.values()) subscription.onSettled(request, result);
  }

  /** The connection closed (or the node is stopping, when its leases are left as they are). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const keepLeases = this.registry.isStopped;
    for (const subscription of [...this.byId.values()]) {
      if (keepLeases) subscription.stop();
      else subscription.abandon();
    }
    this.registry.forget(this);
  }

  private unsubscribe(id: number): { unsubscribed: true } {
    const subscription = this.byId.get(id);
    if (subscription === undefined || !subscription.isActive) throw new RequestError('NOT_FOUND', `no active subscription ${id} on this connection`);
    subscription.stop();
    return { unsubscribed: true };
  }
}
