import {
  type Entry,
  type HeartbeatMessage,
  isSendableBeforePersist,
  type Message,
  type NodeId,
  type Raft,
  type ReadFailure,
  type ReadState,
  type Ready,
  type Snapshot,
  type SoftState,
} from '../../raft/index.ts';
import { assert } from '../../shared/index.ts';
import { type RaftStorage, StorageWriteError } from '../../storage/index.ts';

export interface RaftDriverOptions {
  readonly send: (message: Message) => void;
  /** Puts the messages sent so far on the wire now, instead of at the end of the event loop's turn. */
  readonly flush: () => void;
  readonly apply: (entry: Entry) => void;
  readonly installSnapshot: (snapshot: Snapshot) => void;
  readonly onReadState: (read: ReadState) => void;
  readonly onReadFailure: (failure: ReadFailure) => void;
  readonly onSoftState: (state: SoftState) => void;
  /** A ready's synced write finished: how long the disk took (the node's main health signal for its disk). */
  readonly onWritten: (milliseconds: number) => void;
  /** The disk refused a write: the loop has stopped; the node waits for its disk and reopens. */
  readonly onStorageFailure: (error: StorageWriteError) => void;
  /** Anything else failed (a broken invariant): the node can no longer be trusted and must stop. */
  readonly onFatal: (error: unknown) => void;
}

/**
 * The Ready loop (docs/internals.md, "The Ready loop"): the only code that touches the core. Inputs queue up
 * while a batch is being written, and are stepped together before the next ready: that is the
 * group commit, one synced write for everything that arrived during the previous one.
 */
export class RaftDriver {
  /** An input may return a promise: the loop then waits for it alone, and a Raft it yields replaces the core. */
  private inputs: ((raft: Raft) => void | Promise<Raft | undefined>)[] = [];
  private running = false;
  private scheduled = false;
  private stopped = false;
  /** When the write under way began (`performance.now()`), for the stall watchdog. */
  private writeStartedAt: number | undefined;
  /** The leader's latest plain heartbeat to each peer (see `repeatHeartbeats`); empty unless leader. */
  private readonly heartbeats = new Map<NodeId, HeartbeatMessage>();
  readyBatches = 0;

  private raft: Raft;
  private storage: RaftStorage;

  constructor(
    raft: Raft,
    storage: RaftStorage,
    private readonly hooks: RaftDriverOptions,
  ) {
    this.raft = raft;
    this.storage = storage;
  }

  /**
   * Drives another core persisting to another storage: after disk trouble, once the loop has stopped
   * (`stop`) and gone idle, the node rebuilds from disk and carries on with this same driver, so
   * the parts that submit to it never hold a stale one.
   */
  restart(raft: Raft, storage: RaftStorage): void {
    assert(this.stopped && !this.running && !this.scheduled, 'a driver restarts only once stopped and idle');
    this.raft = raft;
    this.storage = storage;
    this.heartbeats.clear();
    this.stopped = false;
  }

  /** Inputs waiting for the next batch. */
  get backlog(): number {
    return this.inputs.length;
  }

  get core(): Raft {
    return this.raft;
  }

  /** Runs `input` against the core at the next safe point (never between ready and advance). */
  submit(input: (raft: Raft) => void | Promise<Raft | undefined>): void {
    if (this.stopped) return;
    this.inputs.push(input);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.inputs = [];
    this.heartbeats.clear();
  }

  /** How long the write under way has been waiting for the disk; 0 when none is. */
  writeWaitingMs(now: number): number {
    return this.writeStartedAt === undefined ? 0 : now - this.writeStartedAt;
  }

  /**
   * While a synced write holds the core, no tick runs and no heartbeat leaves: a leader whose disk
   * takes longer than an election timeout over one write (0.5-1 s seen under a million-message
   * backlog, with every node's LevelDB compacting snapshots on one disk) lost its followers to an
   * election. So the node repeats the leader's latest heartbeats, unchanged, from `afterMs` into a
   * write until `untilMs`: same term, a commit index already announced, so a follower does with
   * them what it did the first time. A disk stuck for longer still costs the leadership.
   */
  repeatHeartbeats(now: number, afterMs: number, untilMs: number): void {
    const waitingMs = this.writeWaitingMs(now);
    if (waitingMs < afterMs || waitingMs > untilMs || this.heartbeats.size === 0) return;
    for (const heartbeat of this.heartbeats.values()) this.hooks.send(heartbeat);
    this.hooks.flush();
  }

  /** Resolves once no batch is being written, so a shutdown never cuts a write in half. */
  async idle(): Promise<void> {
    while (this.running || this.scheduled) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      while (!this.stopped && (this.inputs.length > 0 || this.raft.hasReady())) {
        const batch = this.inputs;
        this.inputs = [];
        for (const input of batch) {
          const outcome = input(this.raft);
          if (outcome instanceof Promise) this.replaceCore((await outcome) ?? this.raft);
        }
        while (!this.stopped && this.raft.hasReady()) await this.processReady();
      }
    } catch (error) {
      this.stopped = true;
      if (error instanceof StorageWriteError) this.hooks.onStorageFailure(error);
      else this.hooks.onFatal(error);
    } finally {
      this.running = false;
    }
  }

  private replaceCore(raft: Raft): void {
    if (raft !== this.raft) this.heartbeats.clear();
    this.raft = raft;
  }

  private noteHeartbeats(ready: Ready): void {
    if (ready.softState !== undefined && ready.softState.role !== 'leader') this.heartbeats.clear();
    for (const message of ready.messages) {
      if (message.type === 'heartbeat' && message.readContext === '') this.heartbeats.set(message.to, message);
    }
  }

  private async processReady(): Promise<void> {
    const raft = this.raft;
    const ready = raft.ready();
    this.readyBatches++;
    this.noteHeartbeats(ready);
    const { replicate, promises, notices } = sendOrder(ready.messages);
    // A leader's new entries go out while its own write is under way (Raft thesis §10.2.1): the
    // core counts the leader toward a quorum only for entries on its own disk, so nothing commits
    // early. Votes and acknowledgements promise durable state and wait for the write.
    // Both sends are on a request's critical path: they leave before the work that follows them
    // (starting the write, applying entries), not after it.
    if (replicate.length > 0) this.sendNow(replicate);
    const startedAt = performance.now();
    this.writeStartedAt = startedAt;
    try {
      await this.storage.save(ready);
    } finally {
      this.writeStartedAt = undefined;
    }
    // Only synced writes count: a ready that changed nothing but the commit index writes nothing.
    if (ready.mustSync) this.hooks.onWritten(performance.now() - startedAt);
    // Stopped while the write hung (the stall watchdog): the node has dropped this core and will
    // start over from disk, so nothing of this ready is sent or applied.
    if (this.stopped) return;
    if (promises.length > 0) this.sendNow(promises);
    if (ready.snapshot !== undefined) this.hooks.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) this.hooks.apply(entry);
    // Heartbeats and empty appends only spread the commit index: clients' answers (sent by apply)
    // go first, each send being a system call on the critical path of a request.
    for (const message of notices) this.hooks.send(message);
    for (const read of ready.readStates) this.hooks.onReadState(read);
    for (const failure of ready.readFailures) this.hooks.onReadFailure(failure);
    if (ready.softState !== undefined) this.hooks.onSoftState(ready.softState);
    raft.advance();
  }

  private sendNow(messages: readonly Message[]): void {
    for (const message of messages) this.hooks.send(message);
    this.hooks.flush();
  }
}

/** The three moments a ready's messages leave: before the write, after it, after applying. */
function sendOrder(messages: readonly Message[]): { replicate: Message[]; promises: Message[]; notices: Message[] } {
  const replicate: Message[] = [];
  const promises: Message[] = [];
  const notices: Message[] = [];
  for (const message of messages) {
    if (!isSendableBeforePersist(message)) promises.push(message);
    else if (message.type === 'heartbeat' || (message.type === 'append' && message.entries.length === 0)) notices.push(message);
    else replicate.push(message);
  }
  return { replicate, promises, notices };
}
