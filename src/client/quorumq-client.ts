import { randomUUID } from 'node:crypto';
import type { ClientRequest, DeliveredMessage, MessageInput, QueueConfigInput } from '../shared/index.ts';
import { QuorumqError } from './client-errors.ts';
import { NodeConnection } from './node-connection.ts';
import { type FailedAttempt, failureOf } from './retry-outcome.ts';

export interface ConnectOptions {
  /** `host:port` of any nodes of the cluster; the client moves to another when one fails. */
  readonly nodes: readonly string[];
  /** One attempt's wait for an answer. */
  readonly requestTimeoutMs?: number;
  /** How long one call keeps retrying retryable failures, across nodes, before giving up. */
  readonly retryForMs?: number;
}

/** A leased message; ack it with its `receipt`. */
export type Delivery = DeliveredMessage;

export interface Settled {
  readonly count: number;
  readonly rejected: readonly { readonly id: string; readonly code: string }[];
}

export interface Targets {
  readonly ids?: readonly string[];
  readonly receipts?: readonly string[];
}

const RETRY_DELAY_MS_MIN = 50;
const RETRY_DELAY_MS_MAX = 1000;

/**
 * The TypeScript SDK. Talks the WebSocket protocol to one node at a time and fails over to the
 * next on a connection error. Enqueues always carry a dedupId (one is made when the caller gives
 * none), so a retry after an unknown outcome never enqueues twice within the dedup window.
 */
export class QuorumqClient {
  private connection: NodeConnection | undefined;
  private nodeIndex = 0;
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly retryForMs: number;

  constructor(private readonly options: ConnectOptions) {
    if (options.nodes.length === 0) throw new QuorumqError('BAD_REQUEST', 'connect needs at least one node');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.retryForMs = options.retryForMs ?? 30_000;
    this.nodeIndex = Math.floor(Math.random() * options.nodes.length);
  }

  async enqueue(queue: string, body: unknown, options: Omit<MessageInput, 'body'> = {}): Promise<{ id: string; seq: number }> {
    const message = { ...options, body, dedupId: options.dedupId ?? randomUUID() };
    return (await this.call({ op: 'enqueue', queue, messages: [message], batch: false })) as { id: string; seq: number };
  }

  async enqueueBatch(queue: string, messages: readonly MessageInput[]): Promise<{ ids: string[]; seqs: number[] }> {
    const withIds = messages.map((message) => ({ ...message, dedupId: message.dedupId ?? randomUUID() }));
    return (await this.call({ op: 'enqueue', queue, messages: withIds, batch: true })) as { ids: string[]; seqs: number[] };
  }

  async receive(queue: string, options: { max?: number; visibilityMs?: number; waitMs?: number } = {}): Promise<Delivery[]> {
    const request = { op: 'receive' as const, queue, max: options.max ?? 1, waitMs: options.waitMs ?? 0 };
    const result = await this.call(options.visibilityMs === undefined ? request : { ...request, visibilityMs: options.visibilityMs });
    return (result as { messages: Delivery[] }).messages;
  }

  async ack(queue: string, targets: Targets): Promise<Settled> {
    const result = (await this.call({ op: 'ack', queue, ...selector(targets) })) as { acked: number; rejected: Settled['rejected'] };
    return { count: result.acked, rejected: result.rejected };
  }

  async nack(queue: string, targets: Targets, delayMs?: number): Promise<Settled> {
    const request = { op: 'nack' as const, queue, ...selector(targets) };
    const result = (await this.call(delayMs === undefined ? request : { ...request, delayMs })) as { nacked: number; rejected: Settled['rejected'] };
    return { count: result.nacked, rejected: result.rejected };
  }

  async extend(queue: string, targets: Targets, visibilityMs: number): Promise<Settled> {
    const result = (await this.call({ op: 'extend', queue, ...selector(targets), visibilityMs })) as { extended: number; rejected: Settled['rejected'] };
    return { count: result.extended, rejected: result.rejected };
  }

  configureQueue(queue: string, config: QueueConfigInput): Promise<unknown> {
    return this.call({ op: 'configure', queue, config });
  }

  getQueue(queue: string, options: { stale?: boolean } = {}): Promise<unknown> {
    return this.call({ op: 'getQueue', queue, stale: options.stale ?? false });
  }

  cluster(options: { stale?: boolean } = {}): Promise<unknown> {
    return this.call({ op: 'cluster', stale: options.stale ?? false });
  }

  close(): void {
    this.closed = true;
    this.connection?.close();
  }

  /** Sends with failover: retryable failures are retried, on the next node, until `retryForMs`. */
  private async call(request: ClientRequest): Promise<unknown> {
    const deadline = Date.now() + this.retryForMs;
    const attempts: FailedAttempt[] = [];
    for (;;) {
      if (this.closed) throw new QuorumqError('UNAVAILABLE', 'the client was closed');
      let sent = false;
      try {
        const connection = await this.connect();
        sent = true;
        return await connection.request(request, this.requestTimeoutMs);
      } catch (error) {
        const failure = error instanceof QuorumqError ? error : new QuorumqError('INTERNAL', String(error), error);
        attempts.push({ error: failure, sent });
        if (!failure.retryable || Date.now() >= deadline) throw failureOf(attempts);
        if (failure.code === 'UNAVAILABLE' || failure.code === 'TIMEOUT' || failure.code === 'SHUTTING_DOWN') this.moveToNextNode();
        const delay = Math.min(RETRY_DELAY_MS_MAX, RETRY_DELAY_MS_MIN * 2 ** Math.min(attempts.length, 5));
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
      }
    }
  }

  private async connect(): Promise<NodeConnection> {
    if (this.connection?.isOpen === true) return this.connection;
    const address = this.options.nodes[this.nodeIndex % this.options.nodes.length]!;
    this.connection = await NodeConnection.open(address, this.requestTimeoutMs);
    return this.connection;
  }

  private moveToNextNode(): void {
    this.connection?.close();
    this.connection = undefined;
    this.nodeIndex++;
  }
}

function selector(targets: Targets): { ids: readonly string[]; receipts: readonly string[] } {
  return { ids: targets.ids ?? [], receipts: targets.receipts ?? [] };
}

export function connect(options: ConnectOptions): QuorumqClient {
  return new QuorumqClient(options);
}
