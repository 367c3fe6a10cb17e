import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { assert, type ClientRequest, type DeliveredMessage, type ErrorBody, type PushFrame, RETRYABLE_CODES, type WriteRequest } from '../../shared/index.ts';
import { toErrorBody } from '../requests/index.ts';
import { HeldLeases } from './held-leases.ts';
import { releaseLeases } from './lease-release.ts';
import { retryDelayMs } from './retry-delay.ts';

/** One long-poll's wait on the leader: short enough to notice new credit, long enough to idle cheaply. */
export const POLL_WAIT_MS = 4000;
/** An empty answer sooner than this is followed by a pause, so that the loop can never spin. */
const EMPTY_POLL_MS_MIN = 100;
/** The loop re-checks its state at least this often while it waits for credit. */
const CREDIT_WAIT_MS_MAX = 30_000;

export interface SubscriptionSpec {
  readonly queue: string;
  readonly prefetch: number;
  /** Undefined: the queue's own visibility, as this node's replica knows it. */
  readonly visibilityMs: number | undefined;
}

export interface PushSubscriptionOptions {
  /** The path every client write takes: on a follower, forwarded to the leader. */
  readonly write: (request: WriteRequest) => Promise<unknown>;
  readonly queueVisibilityMs: (queue: string) => number;
  /** Sends a frame on the subscriber's connection; false when the connection is gone. */
  readonly push: (frame: PushFrame) => boolean;
  /** The subscription holds no lease any more and no loop runs: the owner may forget it. */
  readonly onFinished: (subscription: PushSubscription) => void;
  readonly log: Logger;
}

/**
 * A push subscription hosted by the node that holds the subscriber's connection. It leases
 * messages with long-poll receives through the ordinary write path, so it works on any node and
 * carries on across leader changes, and it pushes them as its credit allows: prefetch minus the
 * leases it delivered that the connection has not settled and that have not expired.
 */
export class PushSubscription {
  private readonly held: HeldLeases;
  private state: 'active' | 'stopped' | 'finished' = 'active';
  private loopRunning = false;
  private waiter: { readonly wake: () => void; readonly forCredit: boolean } | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly id: number,
    readonly spec: SubscriptionSpec,
    private readonly options: PushSubscriptionOptions,
  ) {
    this.held = new HeldLeases(spec.prefetch);
  }

  get isActive(): boolean {
    return this.state === 'active';
  }

  /**
   * Starts the loop on the next turn of the event loop: the subscribe reply, sent when the current
   * microtasks settle, goes out before the first delivery.
   */
  start(): void {
    assert(this.state === 'active' && !this.loopRunning, 'a subscription starts once');
    this.loopRunning = true;
    setImmediate(() => void this.run().finally(() => this.onLoopEnded()));
  }

  /** Unsubscribed: no more deliveries; leases already delivered stay held until settled or expired. */
  stop(): void {
    if (this.state !== 'active') return;
    this.state = 'stopped';
    this.waiter?.wake();
    this.finishIfIdle();
  }

  /** The subscriber's connection closed: whatever it still held goes back to the queue now. */
  abandon(): void {
    this.stop();
    void this.release(this.held.takeAll());
    this.finishIfIdle();
  }

  /** A settle request on the subscriber's connection was answered: leases it ended return credit. */
  onSettled(request: ClientRequest, result: unknown): void {
    if (!('queue' in request) || request.queue !== this.spec.queue) return;
    let released = 0;
    if (request.op === 'ack' || request.op === 'nack') released = this.held.settle(request.receipts, request.ids);
    else if (request.op === 'extend') released = this.held.extend(request.receipts, request.ids, performance.now() + request.visibilityMs, rejectedIds(result));
    if (released > 0) this.onCreditReturned();
  }

  /** Runs until the subscription stops; each pass waits for credit, long-polls, or backs off. */
  private async run(): Promise<void> {
    let failures = 0;
    while (this.state === 'active') {
      const credit = this.held.credit();
      if (credit === 0) {
        await this.pause(CREDIT_WAIT_MS_MAX, true);
        continue;
      }
      const started = performance.now();
      try {
        const messages = await this.receive(credit);
        failures = 0;
        this.onReceived(messages);
        if (messages.length === 0 && performance.now() - started < EMPTY_POLL_MS_MIN) await this.pause(EMPTY_POLL_MS_MIN, false);
      } catch (error) {
        const body = toErrorBody(error);
        if (!RETRYABLE_CODES.has(body.code)) return this.endWith(body);
        failures++;
        await this.pause(retryDelayMs(failures, body.retryAfterMs), false);
      }
    }
  }

  private async receive(max: number): Promise<DeliveredMessage[]> {
    const request: WriteRequest = { op: 'receive', queue: this.spec.queue, max, waitMs: POLL_WAIT_MS };
    const result = await this.options.write(this.spec.visibilityMs === undefined ? request : { ...request, visibilityMs: this.spec.visibilityMs });
    return (result as { messages: DeliveredMessage[] }).messages;
  }

  private onReceived(messages: DeliveredMessage[]): void {
    if (messages.length === 0) return;
    const delivered = this.state === 'active' && this.options.push({ push: 'deliver', subscription: this.id, queue: this.spec.queue, messages });
    if (!delivered) {
      // Leased for a subscriber that is gone or has unsubscribed: nobody will work on them.
      void this.release(messages.map((message) => message.receipt));
      return;
    }
    const visibilityMs = this.spec.visibilityMs ?? this.options.queueVisibilityMs(this.spec.queue);
    this.held.hold(messages, performance.now() + visibilityMs);
    this.armExpiry();
  }

  /** The node refuses this subscription's receives for good: the subscriber hears why. */
  private endWith(error: ErrorBody): void {
    this.options.log.warn({ queue: this.spec.queue, code: error.code, message: error.message }, 'push subscription ended by the node');
    this.options.push({ push: 'closed', subscription: this.id, error });
    this.stop();
  }

  private armExpiry(): void {
    const next = this.held.nextDeadline();
    if (next === undefined || next >= this.expiryAt) return;
    clearTimeout(this.expiryTimer);
    this.expiryAt = next;
    this.expiryTimer = setTimeout(() => this.onExpiryDue(), Math.max(0, next - performance.now()));
    this.expiryTimer.unref();
  }

  private onExpiryDue(): void {
    this.expiryTimer = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    const released = this.held.expire(performance.now());
    this.armExpiry();
    if (released > 0) this.onCreditReturned();
  }

  private onCreditReturned(): void {
    if (this.waiter?.forCredit === true) this.waiter.wake();
    this.finishIfIdle();
  }

  /** Waits `timeoutMs`, less if the subscription stops or, when `forCredit`, credit comes back. */
  private pause(timeoutMs: number, forCredit: boolean): Promise<void> {
    assert(this.waiter === undefined, 'the loop waits in one place at a time');
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiter = { wake, forCredit };
    });
  }

  private release(receipts: readonly string[]): Promise<void> {
    return releaseLeases(this.options.write, this.spec.queue, receipts, this.options.log);
  }

  private onLoopEnded(): void {
    this.loopRunning = false;
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.state !== 'stopped' || this.loopRunning || this.held.size > 0) return;
    this.state = 'finished';
    clearTimeout(this.expiryTimer);
    this.options.onFinished(this);
  }
}

function rejectedIds(result: unknown): ReadonlySet<string> {
  const rejected = (result as { rejected?: readonly { id: string }[] }).rejected ?? [];
  return new Set(rejected.map((rejection) => rejection.id));
}
