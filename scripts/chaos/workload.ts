import type { NodeAccess } from '../../cluster/node-http.ts';
import { connect, type QuorumqClient, QuorumqError } from '../../src/client/index.ts';
import type { Prng } from '../../src/shared/index.ts';
import type { DeliveredMessage, HistoryRecorder } from './history.ts';
import { completionOf, httpCall } from './outcome.ts';

export interface WorkloadOptions {
  readonly addresses: readonly string[];
  readonly recorder: HistoryRecorder;
  readonly prng: Prng;
  readonly queue: string;
  readonly producers: number;
  readonly consumers: number;
  /** Of every 100 deliveries, how many the consumer "crashes" on: never acked, so the lease expires. */
  readonly abandonPercent: number;
  readonly visibilityMs: number;
  readonly requestTimeoutMs: number;
  /** A secured cluster's CA and token, given to every HTTP call and SDK client. */
  readonly access?: NodeAccess;
  /** An operator pauses the queue now and then, briefly, and resumes it (see `pause-checker.ts`). */
  readonly queuePauses: boolean;
  /**
   * The queue dead-letters a message on its second delivery without an ack (abandons, leases lost
   * to faults), and the operator redrives the dead letters back now and then (see `dead-letter-checker.ts`).
   */
  readonly deadLetters: boolean;
  /**
   * The operator also enqueues a value delayed by an hour now and then and promotes it at once: it
   * must be delivered like any other (the drain promotes whatever is still delayed).
   */
  readonly promotes: boolean;
}

/** How long the operator's values would wait without a promote: far beyond any run. */
const LATER_DELAY_MS = 3_600_000;

/** Deliveries a message gets before it is dead-lettered, when the run has dead letters. */
export const CHAOS_MAX_DELIVERIES = 2;

/** The operator's process number in the history, apart from producers' and consumers'. */
const OPERATOR_PROCESS = 2000;
/** The operator's producer of delayed values, a process of its own so its order is its own. */
const LATER_PROCESS = 2001;

/**
 * Producers of unique values and consumers that receive and ack, through random nodes, half of
 * them over raw HTTP and half over the SDK. Every operation lands in the history.
 */
export class Workload {
  private producing = true;
  private consuming = true;
  private operating = true;
  private operator: Promise<void> | undefined;
  private readonly running: Promise<void>[] = [];
  private readonly clients: QuorumqClient[] = [];
  counts = { enqueued: 0, delivered: 0, acked: 0, pauses: 0, redriven: 0, promoted: 0 };
  private laterSequence = 0;

  constructor(private readonly options: WorkloadOptions) {}

  start(): void {
    for (let p = 0; p < this.options.producers; p++) this.running.push(this.produce(p));
    for (let c = 0; c < this.options.consumers; c++) this.running.push(this.consume(1000 + c));
    if (this.options.queuePauses || this.options.promotes) this.operator = this.operate();
  }

  /** The operator stops, leaving the queue resumed (it retries the resume until one is acknowledged). */
  async stopOperating(): Promise<void> {
    this.operating = false;
    await this.operator;
  }

  stopProducing(): void {
    this.producing = false;
  }

  async stop(): Promise<void> {
    this.producing = false;
    this.consuming = false;
    await Promise.all(this.running);
    for (const client of this.clients) client.close();
  }

  private pickNode(): string {
    return this.options.addresses[this.options.prng.int(this.options.addresses.length)]!;
  }

  private async produce(process: number): Promise<void> {
    const overSdk = process % 2 === 1 ? this.sdk() : undefined;
    for (let sequence = 1; this.producing; sequence++) {
      const value = `p${process}-${sequence}`;
      // Retry an unknown outcome with the same dedupId, as a user would; a definite failure moves on.
      for (let attempt = 0; this.producing && attempt < 20; attempt++) {
        const outcome = overSdk === undefined ? await this.enqueueHttp(process, value) : await this.enqueueSdk(process, value, overSdk);
        if (outcome !== 'info') break;
      }
    }
  }

  private async enqueueHttp(process: number, value: string): Promise<'ok' | 'fail' | 'info'> {
    const node = this.pickNode();
    const recorder = this.options.recorder;
    recorder.invoke(process, { f: 'enqueue', value: { value, dedupId: value } }, node);
    const reply = await httpCall(
      node,
      'POST',
      `/queues/${this.options.queue}/messages`,
      { body: value, dedupId: value },
      this.options.requestTimeoutMs,
      this.options.access,
    );
    const type = completionOf(reply.code);
    const id = type === 'ok' ? (reply.body as { id: string }).id : undefined;
    recorder.complete(process, type, { f: 'enqueue', value: id === undefined ? { value, dedupId: value } : { value, dedupId: value, id } }, node);
    if (type === 'ok') this.counts.enqueued++;
    else await pause(50);
    return type;
  }

  private async enqueueSdk(process: number, value: string, client: QuorumqClient): Promise<'ok' | 'fail' | 'info'> {
    const recorder = this.options.recorder;
    recorder.invoke(process, { f: 'enqueue', value: { value, dedupId: value } }, 'sdk');
    try {
      const { id } = await client.enqueue(this.options.queue, value, { dedupId: value });
      recorder.complete(process, 'ok', { f: 'enqueue', value: { value, dedupId: value, id } }, 'sdk');
      this.counts.enqueued++;
      return 'ok';
    } catch (error) {
      const type = completionOf(error instanceof QuorumqError ? error.code : 'NETWORK');
      recorder.complete(process, type, { f: 'enqueue', value: { value, dedupId: value } }, 'sdk');
      return type;
    }
  }

  private async consume(process: number): Promise<void> {
    while (this.consuming) {
      const node = this.pickNode();
      const delivered = await this.receive(process, node);
      const kept = delivered.filter(() => this.options.prng.int(100) >= this.options.abandonPercent);
      if (kept.length > 0)
        await this.ack(
          process,
          node,
          kept.map((message) => message.receipt),
        );
      if (delivered.length === 0) await pause(20);
    }
  }

  private async receive(process: number, node: string): Promise<DeliveredMessage[]> {
    const recorder = this.options.recorder;
    recorder.invoke(process, { f: 'receive', value: null }, node);
    const reply = await httpCall(
      node,
      'POST',
      `/queues/${this.options.queue}/receive`,
      { max: 10, waitMs: 500, visibilityMs: this.options.visibilityMs },
      this.options.requestTimeoutMs,
      this.options.access,
    );
    const type = completionOf(reply.code);
    if (type !== 'ok') {
      recorder.complete(process, type, { f: 'receive', value: null }, node);
      await pause(50);
      return [];
    }
    const messages = (reply.body as { messages: { id: string; receipt: string; attempt: number; body: string }[] }).messages;
    const delivered = messages.map((message) => ({ value: message.body, id: message.id, receipt: message.receipt, attempt: message.attempt }));
    recorder.complete(process, 'ok', { f: 'receive', value: delivered }, node);
    this.counts.delivered += delivered.length;
    return delivered;
  }

  private async ack(process: number, node: string, receipts: string[]): Promise<void> {
    const recorder = this.options.recorder;
    recorder.invoke(process, { f: 'ack', value: { receipts } }, node);
    const reply = await httpCall(node, 'POST', `/queues/${this.options.queue}/ack`, { receipts }, this.options.requestTimeoutMs, this.options.access);
    const type = completionOf(reply.code);
    if (type !== 'ok') {
      recorder.complete(process, type, { f: 'ack', value: { receipts } }, node);
      return;
    }
    const rejectedIds = new Set((reply.body as { rejected: { id: string }[] }).rejected.map((rejection) => rejection.id));
    const rejected = receipts.filter((receipt) => rejectedIds.has(receipt.slice(0, receipt.lastIndexOf(':'))));
    recorder.complete(process, 'ok', { f: 'ack', value: { receipts, rejected } }, node);
    this.counts.acked += receipts.length - rejected.length;
  }

  /** Every 1.5 to 3 s, pauses the queue for 0.3 to 0.8 s; ends with a resume that was acknowledged. */
  private async operate(): Promise<void> {
    while (this.operating) {
      await pause(1500 + this.options.prng.int(1500));
      if (!this.operating) break;
      if (this.options.queuePauses) {
        await this.setPaused(true);
        await pause(300 + this.options.prng.int(500));
        while ((await this.setPaused(false)) !== 'ok') await pause(100);
      }
      if (this.options.deadLetters) await this.redrive(this.pickNode());
      if (this.options.promotes) await this.enqueueLaterAndPromote();
    }
  }

  /**
   * Enqueues a value delayed by an hour (retrying an unknown outcome with its dedupId), then promotes
   * it by the id the enqueue answered. A promote that fails is not retried: the drain promotes every
   * message still delayed, so an acknowledged value is delivered either way, or is lost.
   */
  private async enqueueLaterAndPromote(): Promise<void> {
    const value = `later-${++this.laterSequence}`;
    const recorder = this.options.recorder;
    let id: string | undefined;
    for (let attempt = 0; this.operating && attempt < 20 && id === undefined; attempt++) {
      const node = this.pickNode();
      recorder.invoke(LATER_PROCESS, { f: 'enqueue', value: { value, dedupId: value, delayMs: LATER_DELAY_MS } }, node);
      const body = { body: value, dedupId: value, delayMs: LATER_DELAY_MS };
      const reply = await httpCall(node, 'POST', `/queues/${this.options.queue}/messages`, body, this.options.requestTimeoutMs, this.options.access);
      const type = completionOf(reply.code);
      id = type === 'ok' ? (reply.body as { id: string }).id : undefined;
      const enqueued = { value, dedupId: value, delayMs: LATER_DELAY_MS };
      recorder.complete(LATER_PROCESS, type, { f: 'enqueue', value: id === undefined ? enqueued : { ...enqueued, id } }, node);
      if (type === 'ok') this.counts.enqueued++;
      if (type === 'fail') return;
    }
    if (id !== undefined) await this.promote(this.pickNode(), [id]);
  }

  /** Promotes `ids`; answers how many became ready (0 on any failure: the drain tries again). */
  private async promote(node: string, ids: readonly string[]): Promise<number> {
    const recorder = this.options.recorder;
    recorder.invoke(OPERATOR_PROCESS, { f: 'promote', value: { ids } }, node);
    const reply = await httpCall(node, 'POST', `/queues/${this.options.queue}/promote`, { ids }, this.options.requestTimeoutMs, this.options.access);
    const type = completionOf(reply.code);
    const promoted = type === 'ok' ? (reply.body as { promoted: number }).promoted : undefined;
    recorder.complete(OPERATOR_PROCESS, type, { f: 'promote', value: promoted === undefined ? { ids } : { ids, promoted } }, node);
    this.counts.promoted += promoted ?? 0;
    return promoted ?? 0;
  }

  /** For the drain: promotes every message of the queue still delayed; answers whether none was left. */
  async promoteDelayed(node: string): Promise<boolean> {
    const reply = await httpCall(
      node,
      'GET',
      `/queues/${this.options.queue}/messages?state=delayed&limit=1000`,
      undefined,
      this.options.requestTimeoutMs,
      this.options.access,
    );
    if (reply.code !== undefined) return reply.code === 'NOT_FOUND';
    const ids = (reply.body as { messages: { id: string }[] }).messages.map((message) => message.id);
    return ids.length === 0 || (await this.promote(node, ids)) === ids.length;
  }

  /**
   * Sends the dead letters back to the queue; an unknown outcome is fine (each batch moves whole,
   * and what did not move moves next time). Answers whether it moved everything there was.
   */
  async redrive(node: string): Promise<boolean> {
    const reply = await httpCall(node, 'POST', `/queues/${this.options.queue}.dlq/redrive`, {}, this.options.requestTimeoutMs, this.options.access);
    const result = reply.code === undefined ? (reply.body as { moved: number; remaining: number }) : undefined;
    this.counts.redriven += result?.moved ?? 0;
    // No dead-letter queue yet: nothing ever died, so nothing is left to move.
    return result?.remaining === 0 || reply.code === 'NOT_FOUND';
  }

  private async setPaused(paused: boolean): Promise<'ok' | 'fail' | 'info'> {
    const node = this.pickNode();
    const recorder = this.options.recorder;
    recorder.invoke(OPERATOR_PROCESS, { f: 'pause', value: { paused } }, node);
    const path = `/queues/${this.options.queue}/${paused ? 'pause' : 'resume'}`;
    const reply = await httpCall(node, 'POST', path, undefined, this.options.requestTimeoutMs, this.options.access);
    const type = completionOf(reply.code);
    recorder.complete(OPERATOR_PROCESS, type, { f: 'pause', value: { paused } }, node);
    if (type === 'ok') this.counts.pauses += paused ? 1 : 0;
    return type;
  }

  private sdk(): QuorumqClient {
    const { token, ca } = this.options.access ?? {};
    const client = connect({
      nodes: this.options.addresses,
      requestTimeoutMs: this.options.requestTimeoutMs,
      retryForMs: 2_000,
      ...(token === undefined ? {} : { token }),
      ...(ca === undefined ? {} : { tls: { ca } }),
    });
    this.clients.push(client);
    return client;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
