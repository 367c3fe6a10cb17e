import {
  type ClusterResult,
  type ConfigureResult,
  type DeleteResult,
  type DeliveredMessage,
  type EnqueueBatchResult,
  type EnqueueResult,
  type ListQueuesResult,
  type MessageInput,
  type MessageStatusResult,
  type PauseResult,
  PEEK_LIMITS,
  type PeekResult,
  type PeekState,
  type PromoteResult,
  type PurgeResult,
  type PushFrame,
  parseReceipt,
  type QueueConfigInput,
  type QueueStatsResult,
  REDRIVE_LIMITS,
  type RedriveResult,
  type ResultFor,
  type SettleRejection,
  type SocketRequest,
} from '../shared/index.ts';
import { CallCoalescer } from './call-coalescer.ts';
import { QuorumqError } from './client-errors.ts';
import { type ClientTlsOptions, type DialOptions, dialOptionsOf, NodeConnection } from './node-connection.ts';
import { ProducerSequence } from './producer-sequence.ts';
import { type FailedAttempt, failureOf } from './retry-outcome.ts';
import { giveBack, type MessageHandler, type SubscribeOptions, Subscription, type SubscriptionClient } from './subscription.ts';

export interface ConnectOptions {
  /** `host:port` of any nodes of the cluster; the client moves to another when one fails. */
  readonly nodes: readonly string[];
  /** One attempt's wait for an answer. */
  readonly requestTimeoutMs?: number;
  /** How long one call keeps retrying retryable failures, across nodes, before giving up. */
  readonly retryForMs?: number;
  /**
   * Move to the leader when a connection opens on a follower (default true): every write then
   * skips the follower's forwarding hop. The client does not follow later leader changes; the
   * node it is on forwards meanwhile.
   */
  readonly preferLeader?: boolean;
  /** For nodes run with an auth file: sent as `Authorization: Bearer <token>` when each connection opens. */
  readonly token?: string;
  /** For nodes run with TLS (`--tls-cert`): the client dials `wss://` and checks the nodes' certificates. */
  readonly tls?: ClientTlsOptions;
}

/** A leased message; ack it with its `receipt`. */
export type Delivery = DeliveredMessage;

/** How an ack, nack or extend went for the caller's own targets: how many were settled, and why the others were not. */
export interface Settled {
  readonly count: number;
  readonly rejected: readonly SettleRejection[];
}

export interface Targets {
  readonly ids?: readonly string[];
  readonly receipts?: readonly string[];
}

export interface AckOptions {
  /** What each job produced, aligned with `receipts` (one result per receipt). */
  readonly results?: readonly unknown[];
}

export interface NackOptions {
  /** Back in line after this long; without it, the queue's exponential backoff decides. */
  readonly delayMs?: number;
  /** Why the consumer gave the message back, kept with it (cut to `NACK_ERROR_LENGTH_MAX` characters). */
  readonly error?: string;
}

/** A nack's `error` is cut to this many characters: a stack trace is welcome, a novel is not. */
export const NACK_ERROR_LENGTH_MAX = 1024;
const RETRY_DELAY_MS_MIN = 50;
/**
 * Opening a WebSocket takes milliseconds on a live node; a paused one accepts the TCP connection
 * and never answers the upgrade, so an open gives up well before a request would.
 */
const CONNECT_MS_MAX = 3000;
/** The move to the leader is an optimisation: neither asking for it nor reaching it may stall the client. */
const LEADER_CONNECT_MS_MAX = 1000;
const RETRY_DELAY_MS_MAX = 1000;

/**
 * The TypeScript SDK. Talks the WebSocket protocol to one node at a time and fails over to the
 * next on a connection error. Enqueues carry a producer number (idempotent producer), so a retry
 * after an unknown outcome never enqueues twice; the caller's own `dedupId`s work as well.
 */
export class QuorumqClient {
  private connection: NodeConnection | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private nodeIndex = 0;
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly retryForMs: number;
  private readonly dial: DialOptions;
  private readonly subscriptionClient: SubscriptionClient;
  private readonly producer = new ProducerSequence();
  private readonly enqueues = new CallCoalescer<MessageInput, EnqueueResult>((queue, messages) => this.sendEnqueues(queue, messages));
  private readonly acks = new CallCoalescer<AckPart, Settled>((_key, parts) => this.sendAcks(parts));
  private opening: Promise<NodeConnection> | undefined;
  /** The node this client last gave up on: a follower may still name it leader until the election is over. */
  private leftBehind: string | undefined;

  constructor(private readonly options: ConnectOptions) {
    if (options.nodes.length === 0) throw new QuorumqError('BAD_REQUEST', 'connect needs at least one node');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.retryForMs = options.retryForMs ?? 30_000;
    this.dial = dialOptionsOf(options.token, options.tls);
    this.nodeIndex = Math.floor(Math.random() * options.nodes.length);
    this.subscriptionClient = {
      subscribe: async (request) => {
        const { result, connection } = await this.exchange(request);
        return { id: result.subscription, connection };
      },
      nackAfterBackoff: (queue, receipts, error) => this.nack(queue, { receipts }, { error }),
      forget: (subscription) => this.subscriptions.delete(subscription),
      requestTimeoutMs: this.requestTimeoutMs,
    };
  }

  /** Enqueues made in the same turn travel as one batch request; each caller gets its own answer. */
  enqueue(queue: string, body: unknown, options: Omit<MessageInput, 'body'> = {}): Promise<EnqueueResult> {
    return this.enqueues.submit(queue, { ...options, body });
  }

  enqueueBatch(queue: string, messages: readonly MessageInput[]): Promise<EnqueueBatchResult> {
    return this.enqueueOnce(queue, messages);
  }

  /**
   * Every attempt carries the same producer number, so the cluster applies the request once. Always
   * the batch form: merged single enqueues (`sendEnqueues`) need one answer per message too.
   */
  private async enqueueOnce(queue: string, messages: readonly MessageInput[]): Promise<EnqueueBatchResult> {
    const seq = this.producer.begin();
    try {
      return await this.call({ op: 'enqueue', queue, messages, batch: true, producer: this.producer.stamp(seq) });
    } finally {
      this.producer.finish(seq);
    }
  }

  async receive(queue: string, options: { max?: number; visibilityMs?: number; waitMs?: number } = {}): Promise<Delivery[]> {
    const request = { op: 'receive' as const, queue, max: options.max ?? 1, waitMs: options.waitMs ?? 0 };
    const result = await this.call(options.visibilityMs === undefined ? request : { ...request, visibilityMs: options.visibilityMs });
    return result.messages;
  }

  /** Acks made in the same turn travel as one request (a worker finishing many jobs at once). */
  async ack(queue: string, targets: Targets, options: AckOptions = {}): Promise<Settled> {
    const { ids, receipts } = selector(targets);
    if (options.results !== undefined && options.results.length !== receipts.length) {
      throw new QuorumqError('BAD_REQUEST', `${options.results.length} results for ${receipts.length} receipts; give one result per receipt`);
    }
    // Results are JSON on the HTTP side: a processor that returns nothing acks with null.
    const results = options.results?.map((value) => (value === undefined ? null : value));
    return this.acks.submit(`${queue}\n${results === undefined ? 'plain' : 'results'}`, {
      queue,
      ids,
      receipts,
      ...(results === undefined ? {} : { results }),
    });
  }

  private async sendEnqueues(queue: string, messages: readonly MessageInput[]): Promise<EnqueueResult[]> {
    const { ids, seqs } = await this.enqueueOnce(queue, messages);
    return ids.map((id, index) => ({ id, seq: seqs[index]! }));
  }

  private async sendAcks(parts: readonly AckPart[]): Promise<Settled[]> {
    const request = {
      op: 'ack' as const,
      queue: parts[0]!.queue,
      ids: parts.flatMap((part) => part.ids),
      receipts: parts.flatMap((part) => part.receipts),
      ...(parts[0]!.results === undefined ? {} : { results: parts.flatMap((part) => part.results ?? []) }),
    };
    const { rejected } = await this.call(request);
    return parts.map((part) => settledPart(part, rejected));
  }

  async nack(queue: string, targets: Targets, options: NackOptions = {}): Promise<Settled> {
    const request = {
      op: 'nack' as const,
      queue,
      ...selector(targets),
      ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
      ...(options.error === undefined ? {} : { error: options.error.slice(0, NACK_ERROR_LENGTH_MAX) }),
    };
    const result = await this.call(request);
    return { count: result.nacked, rejected: result.rejected };
  }

  async extend(queue: string, targets: Targets, visibilityMs: number): Promise<Settled> {
    const result = await this.call({ op: 'extend', queue, ...selector(targets), visibilityMs });
    return { count: result.extended, rejected: result.rejected };
  }

  /** Creates the queue or changes its settings; answers the whole config it now runs with. */
  configureQueue(queue: string, config: QueueConfigInput): Promise<ConfigureResult> {
    return this.call({ op: 'configure', queue, config });
  }

  /** The queue's counts and config; NOT_FOUND when it does not exist. */
  getQueue(queue: string, options: { stale?: boolean } = {}): Promise<QueueStatsResult> {
    return this.call({ op: 'getQueue', queue, stale: options.stale ?? false });
  }

  /**
   * Moves dead letters of `queue` back to the queues they died in (or all to `to`), up to `max`, at
   * most `ratePerSec` a second. One call may end before all moved (see `RedriveResult`): this one
   * asks again until nothing is left or nothing more moves, and answers the totals.
   */
  async redrive(queue: string, options: { to?: string; max?: number; ratePerSec?: number } = {}): Promise<RedriveResult> {
    const wanted = options.max ?? REDRIVE_LIMITS.maxMax;
    let moved = 0;
    for (;;) {
      const extra = {
        ...(options.to === undefined ? {} : { to: options.to }),
        ...(options.ratePerSec === undefined ? {} : { ratePerSec: options.ratePerSec }),
      };
      const step = await this.call({ op: 'redrive', queue, max: wanted - moved, ...extra });
      moved += step.moved;
      if (step.moved === 0 || step.remaining === 0 || moved >= wanted) return { moved, remaining: step.remaining };
    }
  }

  /**
   * Makes delayed messages of `queue` (a delay, or a retry's backoff) ready now. The others are
   * rejected with NOT_FOUND or NOT_DELAYED. Needs cluster version 2: FEATURE_NOT_ENABLED while a
   * member still runs an older release.
   */
  promote(queue: string, ids: readonly string[]): Promise<PromoteResult> {
    return this.call({ op: 'promote', queue, ids });
  }

  /** Stops deliveries from `queue` (receives and subscriptions wait; enqueues go on) until `resume`. */
  pause(queue: string): Promise<PauseResult> {
    return this.call({ op: 'pause', queue });
  }

  resume(queue: string): Promise<PauseResult> {
    return this.call({ op: 'resume', queue });
  }

  /**
   * A page of `queue`'s messages in one state (default `ready`), in enqueue order, bodies included
   * (acked and dead ones are remembered without): nothing is leased or counted as a delivery. Pass
   * the answer's `next` as `after` for the following page.
   */
  peek(queue: string, options: { state?: PeekState; limit?: number; after?: string; stale?: boolean } = {}): Promise<PeekResult> {
    const request = {
      op: 'peek' as const,
      queue,
      state: options.state ?? 'ready',
      limit: options.limit ?? PEEK_LIMITS.limitDefault,
      stale: options.stale ?? false,
    };
    return this.call(options.after === undefined ? request : { ...request, after: options.after });
  }

  /** Every queue with its counts and config (those the token may read). */
  listQueues(options: { stale?: boolean } = {}): Promise<ListQueuesResult> {
    return this.call({ op: 'listQueues', stale: options.stale ?? false });
  }

  /** Drops every message of `queue` (ready, delayed and leased); its settings stay. */
  purgeQueue(queue: string): Promise<PurgeResult> {
    return this.call({ op: 'purge', queue });
  }

  /** Deletes `queue` with its messages and settings; `deleted` is false when there was none. */
  deleteQueue(queue: string): Promise<DeleteResult> {
    return this.call({ op: 'delete', queue });
  }

  /** One message's state, attempts and outcome (never its body); NOT_FOUND once forgotten. */
  getMessage(queue: string, id: string, options: { stale?: boolean } = {}): Promise<MessageStatusResult> {
    return this.call({ op: 'getMessage', queue, id, stale: options.stale ?? false });
  }

  /** The answering node's view of the cluster: itself, the leader, and every member. */
  cluster(options: { stale?: boolean } = {}): Promise<ClusterResult> {
    return this.call({ op: 'cluster', stale: options.stale ?? false });
  }

  /**
   * Asks the cluster to push messages of `queue` as they come, at most `prefetch` unsettled at a
   * time; settle each through this client (`ack`, `nack`). After a lost connection the client
   * subscribes again, on another node if need be. Resolves once a node has confirmed it.
   */
  async subscribe(queue: string, handler: MessageHandler, options: SubscribeOptions): Promise<Subscription> {
    const subscription = new Subscription(queue, handler, options, this.subscriptionClient);
    this.subscriptions.add(subscription);
    try {
      await subscription.attach();
    } catch (error) {
      this.subscriptions.delete(subscription);
      throw error;
    }
    return subscription;
  }

  close(): void {
    this.closed = true;
    for (const subscription of this.subscriptions) void subscription.close();
    this.connection?.close();
  }

  /** Sends with failover: retryable failures are retried, on the next node, until `retryForMs`. */
  private async call<Request extends SocketRequest>(request: Request): Promise<ResultFor<Request>> {
    return (await this.exchange(request)).result;
  }

  /** `call`, also naming the connection that answered (a subscription lives on it). */
  private async exchange<Request extends SocketRequest>(request: Request): Promise<{ result: ResultFor<Request>; connection: NodeConnection }> {
    const deadline = Date.now() + this.retryForMs;
    const attempts: FailedAttempt[] = [];
    // Answers without a leader in a row from one node (see `shouldLeave`).
    let leaderless: { readonly on: NodeConnection; readonly inARow: number } | undefined;
    for (;;) {
      if (this.closed) throw new QuorumqError('UNAVAILABLE', 'the client was closed');
      let sent = false;
      let connection: NodeConnection | undefined;
      try {
        connection = await this.connect();
        sent = true;
        return { result: await connection.request(request, this.requestTimeoutMs), connection };
      } catch (error) {
        const failure = error instanceof QuorumqError ? error : new QuorumqError('INTERNAL', String(error), error);
        attempts.push({ error: failure, sent });
        if (!failure.retryable || Date.now() >= deadline) throw failureOf(attempts);
        const leaderlessAnswer = connection !== undefined && (failure.code === 'NO_LEADER' || failure.code === 'UNAVAILABLE');
        const before = leaderless?.on === connection ? (leaderless?.inARow ?? 0) : 0;
        leaderless = leaderlessAnswer ? { on: connection!, inARow: before + 1 } : undefined;
        if (shouldLeave(connection, failure, leaderless?.inARow ?? 0)) this.moveToNextNode();
        const delay = Math.min(RETRY_DELAY_MS_MAX, RETRY_DELAY_MS_MIN * 2 ** Math.min(attempts.length, 5));
        // A node that says how long to wait (an election, a raise under way, a full buffer) is taken at its word, up to the deadline.
        const wait = Math.max(delay * (0.5 + Math.random() / 2), failure.retryAfterMs ?? 0);
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, deadline - Date.now()))));
      }
    }
  }

  /**
   * The open connection, or the one being opened: calls made together share one, where each opening
   * its own would leave all but the last orphaned (open, pinging, never closed).
   */
  private connect(): Promise<NodeConnection> {
    if (this.connection?.isOpen === true) return Promise.resolve(this.connection);
    if (this.opening !== undefined) return this.opening;
    const address = this.options.nodes[this.nodeIndex % this.options.nodes.length]!;
    const opening = this.open(address);
    this.opening = opening;
    const settled = () => {
      if (this.opening === opening) this.opening = undefined;
    };
    opening.then((connection) => {
      const wanted = this.opening === opening && !this.closed;
      settled();
      if (wanted) this.connection = connection;
      else connection.close();
    }, settled);
    return opening;
  }

  private async open(address: string): Promise<NodeConnection> {
    const events = {
      onPush: (connection: NodeConnection, frame: PushFrame) => this.onPush(connection, frame),
      onClose: (connection: NodeConnection) => {
        for (const subscription of this.subscriptions) subscription.onConnectionLost(connection);
      },
    };
    const connection = await NodeConnection.open(address, this.dial, Math.min(this.requestTimeoutMs, CONNECT_MS_MAX), events);
    if (this.options.preferLeader === false) return connection;
    const leader = await leaderAddress(connection, Math.min(this.requestTimeoutMs, LEADER_CONNECT_MS_MAX));
    if (leader === undefined || leader === address || leader === this.leftBehind) return connection;
    try {
      const direct = await NodeConnection.open(leader, this.dial, Math.min(this.requestTimeoutMs, LEADER_CONNECT_MS_MAX), events);
      connection.close();
      return direct;
    } catch {
      return connection;
    }
  }

  private onPush(connection: NodeConnection, frame: PushFrame): void {
    for (const subscription of this.subscriptions) {
      if (subscription.isOn(connection, frame.subscription)) return subscription.onPush(frame);
    }
    // Nobody here wants this subscription (closed, or its subscribe reply was lost): end it, and
    // give back what it delivered, on the connection that holds it.
    void connection.request({ op: 'unsubscribe', subscription: frame.subscription }, this.requestTimeoutMs).catch(() => undefined);
    if (frame.push === 'deliver') giveBack(connection, frame, this.requestTimeoutMs);
  }

  /**
   * Gives up the current node (the one connected, or the one that could not be reached) for the
   * next one in the list that is not that node: with the leader preferred, the node connected need
   * not be the list's current one, and going back to a paused node costs a whole connect timeout.
   */
  private moveToNextNode(): void {
    const nodes = this.options.nodes;
    const left = this.connection?.address ?? nodes[this.nodeIndex % nodes.length]!;
    this.leftBehind = left;
    this.connection?.close();
    this.connection = undefined;
    this.opening = undefined;
    this.nodeIndex++;
    for (let skipped = 0; skipped < nodes.length - 1 && nodes[this.nodeIndex % nodes.length] === left; skipped++) this.nodeIndex++;
  }
}

/** The leader's address as the node behind `connection` knows it; undefined when it knows none or does not answer. */
async function leaderAddress(connection: NodeConnection, timeoutMs: number): Promise<string | undefined> {
  try {
    const view = await connection.request({ op: 'cluster', stale: true }, timeoutMs);
    // Read defensively all the same: a wrong guess here costs only the move to the leader.
    if (view.self?.role === 'leader') return undefined;
    return view.leader?.address ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a failed attempt should move to another node. A node that answered UNAVAILABLE or
 * NO_LEADER is alive and will usually find the new leader: leaving it would also end the
 * subscriptions on its connection, and give back every lease they hold. But one that ends with
 * NO_LEADER, after one such answer already, has waited out its leader wait (3 s by default) for a
 * leader that a normal election names within one: it is cut off from the rest, and so are the
 * subscriptions on it.
 */
function shouldLeave(connection: NodeConnection | undefined, failure: QuorumqError, leaderlessInARow: number): boolean {
  if (connection === undefined || !connection.isOpen) return true;
  if (failure.code === 'NO_LEADER' && leaderlessInARow >= 2) return true;
  return failure.code === 'TIMEOUT' || failure.code === 'SHUTTING_DOWN';
}

interface AckPart {
  readonly queue: string;
  readonly ids: readonly string[];
  readonly receipts: readonly string[];
  readonly results?: readonly unknown[];
}

/** One caller's share of a merged ack's answer: the rejections of its own targets. */
function settledPart(part: AckPart, rejected: Settled['rejected']): Settled {
  const mine = new Set([...part.ids, ...part.receipts.map((receipt) => parseReceipt(receipt).id)]);
  const own = rejected.filter((rejection) => mine.has(rejection.id));
  return { count: part.ids.length + part.receipts.length - own.length, rejected: own };
}

function selector(targets: Targets): { ids: readonly string[]; receipts: readonly string[] } {
  return { ids: targets.ids ?? [], receipts: targets.receipts ?? [] };
}

export function connect(options: ConnectOptions): QuorumqClient {
  return new QuorumqClient(options);
}
