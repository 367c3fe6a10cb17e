import { type DeliveredMessage, type PushFrame, SUBSCRIPTION_LIMITS, type SubscriptionRequest } from '../shared/index.ts';
import { asError, QuorumqError } from './client-errors.ts';
import type { NodeConnection } from './node-connection.ts';
import { backoffMs, sleep } from './timing.ts';

/**
 * Called for each pushed message as it arrives, without waiting for earlier ones: `prefetch`
 * bounds how many are unsettled at once. The handler settles each message itself (`ack`,
 * `nack`); one that throws has its message nacked, after the queue's backoff.
 */
export type MessageHandler = (message: DeliveredMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * Deliveries unsettled at once, 1 to 1000, as the node hosting the subscription counts them:
   * after a resubscription on a node that died, deliveries still unsettled from before are not
   * counted (their leases live on, and acks for them still work).
   */
  readonly prefetch: number;
  /** Each lease's length; the queue's own when not given. */
  readonly visibilityMs?: number;
  /** Hears what goes wrong in the background: a handler that threw, a failed resubscribe. */
  readonly onError?: (error: Error) => void;
}

/** What a subscription needs from its client. */
export interface SubscriptionClient {
  /** Subscribes through whichever node the client reaches, with its failover and retries. */
  subscribe(request: Extract<SubscriptionRequest, { op: 'subscribe' }>): Promise<{ id: number; connection: NodeConnection }>;
  nackAfterBackoff(queue: string, receipts: readonly string[], error: string): Promise<unknown>;
  forget(subscription: Subscription): void;
  readonly requestTimeoutMs: number;
}

const RESUBSCRIBE_DELAY_MS_MAX = 5000;

/**
 * A push subscription as the SDK keeps it: which connection and which node-side number it has
 * now. When that connection is lost, the node gives back every lease it delivered; the SDK
 * subscribes again through the client, which may pick another node.
 */
export class Subscription {
  private attachment: { readonly connection: NodeConnection; readonly id: number } | undefined;
  private closed = false;
  private reattaching = false;

  constructor(
    readonly queue: string,
    private readonly handler: MessageHandler,
    private readonly options: SubscribeOptions,
    private readonly client: SubscriptionClient,
  ) {
    const prefetch = options.prefetch;
    if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > SUBSCRIPTION_LIMITS.prefetchMax) {
      throw new QuorumqError('BAD_REQUEST', `prefetch must be an integer from 1 to ${SUBSCRIPTION_LIMITS.prefetchMax}`);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether a node-side subscription `id` on `connection` is this one. */
  isOn(connection: NodeConnection, id: number): boolean {
    return this.attachment !== undefined && this.attachment.connection === connection && this.attachment.id === id;
  }

  /** Subscribes once, through the client's failover; used at first and after each loss. */
  async attach(): Promise<void> {
    const { queue, options } = this;
    const request = {
      op: 'subscribe' as const,
      queue,
      prefetch: options.prefetch,
      ...(options.visibilityMs === undefined ? {} : { visibilityMs: options.visibilityMs }),
    };
    const { id, connection } = await this.client.subscribe(request);
    if (this.closed) {
      void unsubscribe(connection, id, this.client.requestTimeoutMs);
      return;
    }
    // The connection may have closed between the reply and now; its loss was not ours to hear.
    if (!connection.isOpen) throw new QuorumqError('UNAVAILABLE', `the connection to ${connection.address} closed as the subscription was made`);
    this.attachment = { connection, id };
  }

  onPush(frame: PushFrame): void {
    if (frame.push === 'closed') {
      this.attachment = undefined;
      this.report(new QuorumqError(frame.error.code, `the node ended the subscription to ${this.queue}: ${frame.error.message}`));
      void this.reattach();
      return;
    }
    for (const message of frame.messages) this.dispatch(message);
  }

  onConnectionLost(connection: NodeConnection): void {
    if (this.attachment?.connection !== connection) return;
    this.attachment = undefined;
    void this.reattach();
  }

  /** No more deliveries; ones still in flight are given back (nacked without delay). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.forget(this);
    const attachment = this.attachment;
    this.attachment = undefined;
    if (attachment !== undefined) await unsubscribe(attachment.connection, attachment.id, this.client.requestTimeoutMs);
  }

  private dispatch(message: DeliveredMessage): void {
    void Promise.resolve()
      .then(() => this.handler(message))
      .catch((error: unknown) => {
        const failure = asError(error);
        this.report(failure);
        return this.client.nackAfterBackoff(this.queue, [message.receipt], failure.message);
      })
      .catch((error: unknown) => this.report(asError(error)));
  }

  /** Runs for as long as the subscription is open and detached: its owner wants messages until close(). */
  private async reattach(): Promise<void> {
    if (this.reattaching) return;
    this.reattaching = true;
    try {
      for (let failures = 0; !this.closed && this.attachment === undefined; failures++) {
        if (failures > 0) await sleep(backoffMs(failures, RESUBSCRIBE_DELAY_MS_MAX));
        try {
          await this.attach();
        } catch (error) {
          const failure = asError(error);
          this.report(failure);
          // No retry makes a token valid or gives it a right it lacks: the subscription ends here
          // (its owner heard why through onError) instead of asking again every few seconds forever.
          if (failure instanceof QuorumqError && REFUSALS.has(failure.code)) {
            await this.close();
            return;
          }
        }
      }
    } finally {
      this.reattaching = false;
    }
  }

  private report(error: Error): void {
    this.options.onError?.(error);
  }
}

const REFUSALS: ReadonlySet<string> = new Set(['UNAUTHORIZED', 'FORBIDDEN']);

/** Gives back, on the connection they came by, messages pushed for a subscription nobody has. */
export function giveBack(connection: NodeConnection, frame: Extract<PushFrame, { push: 'deliver' }>, timeoutMs: number): void {
  const receipts = frame.messages.map((message) => message.receipt);
  if (receipts.length === 0) return;
  void connection.request({ op: 'nack', queue: frame.queue, ids: [], receipts, delayMs: 0 }, timeoutMs).catch(() => undefined);
}

async function unsubscribe(connection: NodeConnection, id: number, timeoutMs: number): Promise<void> {
  await connection.request({ op: 'unsubscribe', subscription: id }, timeoutMs).catch(() => undefined);
}
