import { EventEmitter } from 'node:events';
import type { DeliveredMessage } from '../shared/index.ts';
import { asError, JobTimeoutError, LeaseLostError, QuorumqError } from './client-errors.ts';
import { backoffMs, sleep, within } from './timing.ts';
import { type Job, type Processor, type WorkerClient, type WorkerEvents, type WorkerOptions, type WorkerSettings, workerSettings } from './worker-options.ts';

/** A delivered job this worker holds a lease on: waiting for a slot, or running. */
interface HeldJob {
  readonly message: DeliveredMessage;
  /** When its lease was last made (delivery) or extended, by this process's clock. */
  extendedAt: number;
  /** The queue refused to extend it: someone else may have it now, so it is not acked. */
  leaseLost: boolean;
  /** Given back by a close that could not wait for it: its outcome no longer matters. */
  abandoned: boolean;
}

type Outcome<Result> = { readonly ok: true; readonly result: Result } | { readonly ok: false; readonly error: Error };

const RESUBSCRIBE_DELAY_MS_MAX = 5000;
/** What the timer of `processTimeoutMs` resolves to. */
const TIMED_OUT = Symbol('timed out');
/** Receipts per extend or nack request: the nodes' limit on ids per request. */
const SETTLE_BATCH_MAX = 1000;

/**
 * Processes a queue's messages as jobs, in BullMQ's manner: a push subscription with prefetch =
 * concurrency feeds the processor; what it returns is sent with the ack, what it throws nacks the
 * job (the queue's backoff and maxDeliveries apply), as does running past `processTimeoutMs`.
 * Leases of running jobs are extended while they run. `close()` takes no more jobs and waits, up
 * to a bound, for the running ones.
 */
export class Worker<Data = unknown, Result = unknown> extends EventEmitter<WorkerEvents<Data, Result>> {
  private readonly settings: WorkerSettings;
  private readonly held = new Map<string, HeldJob>();
  /** Jobs beyond `concurrency`: after a resubscription the new node's credit does not count old leases. */
  private readonly waiting: HeldJob[] = [];
  private running = 0;
  private state: 'running' | 'closing' | 'closed' = 'running';
  private readonly subscription: Promise<{ close(): Promise<void> } | undefined>;
  private readonly extendTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly client: WorkerClient,
    readonly queue: string,
    private readonly processor: Processor<Data, Result>,
    options: WorkerOptions = {},
  ) {
    super();
    this.settings = workerSettings(options);
    this.subscription = this.subscribe();
    // Checked twice per period, so that no lease waits more than 1.5 periods for its extension.
    this.extendTimer = setInterval(() => this.extendDue(), Math.floor(this.settings.extendEveryMs / 2));
    this.extendTimer.unref();
  }

  /** Jobs this worker holds a lease on right now, running or waiting for a slot. */
  get jobsHeld(): number {
    return this.held.size;
  }

  /** Resolves once the worker's subscription is in place (or the worker was closed first). */
  async waitUntilReady(): Promise<void> {
    await this.subscription;
  }

  /**
   * Takes no more jobs, gives back those not started, waits up to `closeTimeoutMs` for running
   * ones to finish and settle, then gives back what still runs. Calling it again returns the same wait.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.state = 'closing';
      this.closing = this.drainAndClose();
    }
    return this.closing;
  }

  /** Subscribes, retrying retryable failures until it works or the worker closes. */
  private async subscribe(): Promise<{ close(): Promise<void> } | undefined> {
    const options = { prefetch: this.settings.concurrency, visibilityMs: this.settings.visibilityMs, onError: (error: Error) => this.report(error) };
    for (let failures = 1; this.state === 'running'; failures++) {
      try {
        const subscription = await this.client.subscribe(this.queue, (message) => this.onDelivery(message), options);
        if (this.state === 'running') return subscription;
        // Closed while subscribing: a subscription nobody drains would only bounce messages.
        await subscription.close();
        return undefined;
      } catch (error) {
        this.report(asError(error));
        if (error instanceof QuorumqError && !error.retryable) return undefined;
        await sleep(backoffMs(failures, RESUBSCRIBE_DELAY_MS_MAX));
      }
    }
    return undefined;
  }

  private onDelivery(message: DeliveredMessage): void {
    if (this.state !== 'running') {
      void this.giveBack([message.receipt]);
      return;
    }
    const job: HeldJob = { message, extendedAt: Date.now(), leaseLost: false, abandoned: false };
    this.held.set(message.receipt, job);
    if (this.running < this.settings.concurrency) this.start(job);
    else this.waiting.push(job);
  }

  private start(held: HeldJob): void {
    this.running++;
    void this.process(held)
      .catch((error: unknown) => this.report(asError(error)))
      .finally(() => {
        this.held.delete(held.message.receipt);
        this.running--;
        this.startNext();
      });
  }

  private startNext(): void {
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      if (!next.leaseLost) return this.start(next);
      this.held.delete(next.message.receipt);
    }
    if (this.running === 0) this.onIdle?.();
  }

  private async process(held: HeldJob): Promise<void> {
    const controller = new AbortController();
    const job = toJob<Data>(this.queue, held.message, controller.signal);
    const outcome = await this.runWithin(job, controller);
    if (held.abandoned || held.leaseLost) return;
    if (outcome.ok) await this.complete(held, job, outcome.result);
    else await this.fail(held, job, outcome.error);
  }

  /**
   * The processor's outcome, or a JobTimeoutError once `processTimeoutMs` has passed without one.
   * The timer cannot fire while a synchronous processor holds the event loop, and such a processor
   * settles, in a microtask, before any timer runs: so the time is also checked when the outcome
   * comes, and an outcome that comes too late is a timeout all the same.
   */
  private async runWithin(job: Job<Data>, controller: AbortController): Promise<Outcome<Result>> {
    const timeoutMs = this.settings.processTimeoutMs;
    if (timeoutMs === 0) return this.run(job);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)));
    try {
      const outcome = await Promise.race([this.run(job), timedOut]);
      if (outcome !== TIMED_OUT && performance.now() - started <= timeoutMs) return outcome;
    } finally {
      clearTimeout(timer);
    }
    const error = new JobTimeoutError(job.id, timeoutMs);
    controller.abort(error);
    return { ok: false, error };
  }

  private async run(job: Job<Data>): Promise<Outcome<Result>> {
    try {
      return { ok: true, result: await this.processor(job) };
    } catch (error) {
      return { ok: false, error: asError(error) };
    }
  }

  private async complete(held: HeldJob, job: Job<Data>, result: Result): Promise<void> {
    try {
      const settled = await this.client.ack(this.queue, { receipts: [held.message.receipt] }, { results: [result] });
      const rejection = settled.rejected[0];
      // NOT_FOUND: the message is gone; most likely an earlier attempt of this very ack was applied.
      if (rejection === undefined || rejection.code === 'NOT_FOUND') this.emit('completed', job, result);
      else this.report(new LeaseLostError(job.id, rejection.code));
    } catch (error) {
      this.report(asError(error));
    }
  }

  /** Nacks without a delay of its own, so that the queue's backoff and maxDeliveries decide. */
  private async fail(held: HeldJob, job: Job<Data>, error: Error): Promise<void> {
    try {
      await this.client.nack(this.queue, { receipts: [held.message.receipt] }, { error: error.message });
    } catch (nackError) {
      this.report(asError(nackError));
    }
    this.emit('failed', job, error);
  }

  /** Extends, in one request per thousand, every held lease not extended for a period. */
  private extendDue(): void {
    const now = Date.now();
    const due = [...this.held.values()].filter((job) => !job.leaseLost && !job.abandoned && now - job.extendedAt >= this.settings.extendEveryMs);
    for (let start = 0; start < due.length; start += SETTLE_BATCH_MAX) {
      void this.extend(due.slice(start, start + SETTLE_BATCH_MAX), now);
    }
  }

  private async extend(jobs: readonly HeldJob[], now: number): Promise<void> {
    const previous = jobs.map((job) => job.extendedAt);
    for (const job of jobs) job.extendedAt = now;
    try {
      const receipts = jobs.map((job) => job.message.receipt);
      const settled = await this.client.extend(this.queue, { receipts }, this.settings.visibilityMs);
      const lost = new Map(settled.rejected.map((rejection) => [rejection.id, rejection.code]));
      for (const job of jobs) {
        const code = lost.get(job.message.id);
        if (code === undefined) continue;
        job.leaseLost = true;
        this.report(new LeaseLostError(job.message.id, code));
      }
    } catch (error) {
      // Not extended: the next check tries again at once rather than a period later.
      jobs.forEach((job, index) => (job.extendedAt = previous[index]!));
      this.report(asError(error));
    }
  }

  private async drainAndClose(): Promise<void> {
    const deadline = Date.now() + this.settings.closeTimeoutMs;
    const subscription = await within(this.subscription, this.settings.closeTimeoutMs);
    await subscription?.close();
    const notStarted = this.waiting.splice(0);
    for (const job of notStarted) this.held.delete(job.message.receipt);
    const givenBack = this.giveBack(notStarted.map((job) => job.message.receipt));
    await this.idle(deadline - Date.now());
    const unfinished = [...this.held.values()];
    for (const job of unfinished) job.abandoned = true;
    await Promise.all([givenBack, this.giveBack(unfinished.map((job) => job.message.receipt))]);
    clearInterval(this.extendTimer);
    this.state = 'closed';
  }

  /** Resolves when no job runs, or after `timeoutMs`. */
  private idle(timeoutMs: number): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.onIdle = done;
    });
  }

  /** Returns jobs this worker will not run to the queue at once, without a delay. */
  private async giveBack(receipts: readonly string[]): Promise<void> {
    for (let start = 0; start < receipts.length; start += SETTLE_BATCH_MAX) {
      const chunk = receipts.slice(start, start + SETTLE_BATCH_MAX);
      await this.client.nack(this.queue, { receipts: chunk }, { delayMs: 0 }).catch((error: unknown) => this.report(asError(error)));
    }
  }

  /** Errors go to 'error' listeners; without one they are dropped rather than crash the process. */
  private report(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function toJob<Data>(queue: string, message: DeliveredMessage, signal: AbortSignal): Job<Data> {
  const job = {
    id: message.id,
    queue,
    data: message.body as Data,
    attempt: message.attempt,
    priority: message.priority,
    enqueuedAt: message.enqueuedAt,
    signal,
  };
  return message.deadLetter === undefined ? job : { ...job, deadLetter: message.deadLetter };
}
