import {
  bootstrapState,
  DEFAULT_RAFT_LIMITS,
  EMPTY_STATE,
  type Entry,
  type HardState,
  type Membership,
  type Message,
  type MessageType,
  type NodeId,
  type PersistedState,
  type ProposeResult,
  Raft,
  type RaftConfig,
  type RaftStatus,
  type ReadFailure,
  type ReadState,
  type Ready,
  raftConfig,
  type Snapshot,
} from '../../../src/raft/index.ts';
import { Prng } from '../../../src/shared/index.ts';

export type Overrides = Partial<Omit<RaftConfig, 'id'>>;

export const ELECTION_TICKS = DEFAULT_RAFT_LIMITS.electionTicks;
export const THREE = ['n1', 'n2', 'n3'] as const;
export const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
export const THREE_VOTERS: Membership = { voters: THREE, learners: [] };

/** A disk where every ready is durable at once: crash tests here are about the core, not fsync. */
class Disk {
  private hardState: HardState;
  private snapshot: Snapshot | undefined;
  private entries: Entry[];
  /** A recovery target survives restarts, as the storage layer keeps it beside the log. */
  private readonly recovery: PersistedState['recovery'];

  constructor(initial: PersistedState) {
    this.recovery = initial.recovery;
    this.hardState = initial.hardState;
    this.snapshot = initial.snapshot;
    this.entries = [...initial.entries];
  }

  write(ready: Ready): void {
    if (ready.snapshot !== undefined) {
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.slice(0, Math.max(0, first.index - this.base() - 1));
      this.entries.push(...ready.entries);
    }
    if (ready.hardState !== undefined) this.hardState = ready.hardState;
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.entries = this.entries.slice(snapshot.meta.index - this.base());
    this.snapshot = snapshot;
  }

  /** A copy, so that a restarted core shares nothing with the one that crashed. */
  load(): PersistedState {
    const base = { hardState: { ...this.hardState }, entries: [...this.entries], ...(this.recovery === undefined ? {} : { recovery: this.recovery }) };
    return this.snapshot === undefined ? base : { ...base, snapshot: this.snapshot };
  }

  private base(): number {
    return this.snapshot?.meta.index ?? 0;
  }
}

export interface TestNode {
  readonly id: NodeId;
  disk: Disk;
  raft: Raft;
  up: boolean;
  starts: number;
  /** Entries handed to the application since the node last started (a restart replays them). */
  readonly applied: Entry[];
  readonly installedSnapshots: Snapshot[];
  readonly readStates: ReadState[];
  readonly readFailures: ReadFailure[];
}

export interface ClusterOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Nodes outside the configuration, started from EMPTY_STATE, for membership changes to add. */
  readonly joiners?: readonly NodeId[];
  readonly config?: Overrides;
  /** Disks to start from instead of the bootstrap state, by node. */
  readonly states?: Readonly<Record<NodeId, PersistedState>>;
  /** Nodes to leave out: messages to them wait in `queue` for the test to inspect, and are lost if delivered. */
  readonly absent?: readonly NodeId[];
}

/**
 * An in-memory cluster of Raft cores. Nothing moves unless the test says so: messages wait in
 * `queue` until `deliver` (or `drop`) picks them, and each node's ready loop runs to quiescence
 * after every input, persisting before sending as the Ready contract requires.
 */
export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** In flight, in send order. */
  queue: Message[] = [];
  /** Every message ever sent, for tests that count. */
  readonly sent: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  readonly config: Overrides;

  constructor(options: ClusterOptions) {
    this.config = options.config ?? {};
    const membership: Membership = { voters: options.voters, learners: options.learners ?? [] };
    const absent = new Set(options.absent ?? []);
    for (const id of [...membership.voters, ...membership.learners, ...(options.joiners ?? [])]) {
      if (absent.has(id)) continue;
      const founding = membership.voters.includes(id) || membership.learners.includes(id);
      const initial = options.states?.[id] ?? (founding ? bootstrapState(membership) : EMPTY_STATE);
      const disk = new Disk(initial);
      this.nodes.set(id, {
        id,
        disk,
        raft: this.boot(id, disk, 1),
        up: true,
        starts: 1,
        applied: [],
        installedSnapshots: [],
        readStates: [],
        readFailures: [],
      });
    }
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  status(id: NodeId): RaftStatus {
    return this.raft(id).status();
  }

  progressOf(leader: NodeId, follower: NodeId): RaftStatus['progress'][number] {
    const progress = this.status(leader).progress.find((p) => p.id === follower);
    if (progress === undefined) throw new Error(`${leader} has no progress for ${follower}`);
    return progress;
  }

  /** Runs `input` against a node's core, then its ready loop. */
  on<T>(id: NodeId, input: (raft: Raft) => T): T {
    const node = this.node(id);
    if (!node.up) throw new Error(`${id} is down`);
    const result = input(node.raft);
    this.process(node);
    return result;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.on(id, (raft) => raft.tick());
  }

  propose(id: NodeId, data: string | Uint8Array = 'x'): ProposeResult {
    return this.on(id, (raft) => raft.propose(typeof data === 'string' ? bytes(data) : data));
  }

  /** Hands a message straight to its recipient, bypassing the queue (for crafted or replayed messages). */
  inject(message: Message): void {
    this.on(message.to, (raft) => raft.step(message));
  }

  /**
   * Delivers queued messages that match `filter`, oldest first and including any they provoke, until
   * none match or `limit` arrived. Messages that cannot arrive (to or from an isolated node, to a
   * down or absent node) are lost on the way.
   */
  deliver(filter: (message: Message) => boolean = () => true, limit = Infinity): number {
    let delivered = 0;
    while (delivered < limit) {
      const at = this.queue.findIndex(filter);
      if (at < 0) break;
      const [message] = this.queue.splice(at, 1) as [Message];
      const target = this.nodes.get(message.to);
      if (target === undefined || !target.up || this.isolated.has(message.to) || this.isolated.has(message.from)) continue;
      this.inject(message);
      if (++delivered > 100_000) throw new Error('deliver did not quiesce');
    }
    return delivered;
  }

  /** Removes matching messages from the queue and returns them, to lose, reorder or replay. */
  drop<M extends Message>(filter: (message: Message) => message is M): M[];
  drop(filter?: (message: Message) => boolean): Message[];
  drop(filter: (message: Message) => boolean = () => true): Message[] {
    const dropped = this.queue.filter(filter);
    this.queue = this.queue.filter((message) => !filter(message));
    return dropped;
  }

  isolate(...ids: NodeId[]): void {
    for (const id of ids) this.isolated.add(id);
  }

  heal(): void {
    this.isolated.clear();
  }

  /** Ticks `id` until its election timer fires; the campaign messages are left queued. */
  campaign(id: NodeId): void {
    // The randomized timeout is below twice electionTicks.
    const maxTicks = 2 * (this.config.electionTicks ?? ELECTION_TICKS);
    for (let i = 0; i < maxTicks && this.status(id).role === 'follower'; i++) this.tick(id);
    if (this.status(id).role === 'follower') throw new Error(`${id} did not campaign`);
  }

  /** Campaigns on `id` and delivers everything: `id` ends up leader with its no-op committed everywhere reachable. */
  elect(id: NodeId): void {
    this.campaign(id);
    this.deliver();
    if (this.status(id).role !== 'leader') throw new Error(`${id} was not elected: ${this.status(id).role}`);
  }

  /** Lets time pass: every up node ticks once per round and every message is delivered. */
  run(rounds: number): void {
    for (let i = 0; i < rounds; i++) {
      for (const node of this.nodes.values()) if (node.up) this.tick(node.id);
      this.deliver();
    }
  }

  /** The nodes that currently believe they lead. */
  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((node) => node.up && node.raft.status().role === 'leader').map((node) => node.id);
  }

  /** Loses the node's memory and every message to it; its disk survives. */
  crash(id: NodeId): void {
    this.node(id).up = false;
    this.drop((message) => message.to === id);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.up) this.crash(id);
    node.up = true;
    node.applied.length = 0;
    node.starts++;
    node.raft = this.boot(id, node.disk, node.starts);
    this.process(node);
  }

  /**
   * Restarts `id` from `state` instead of its disk, as after damage that storage detected and
   * repaired: the new state becomes its disk.
   */
  restartFrom(id: NodeId, state: PersistedState): void {
    const node = this.node(id);
    if (node.up) this.crash(id);
    node.disk = new Disk(state);
    this.restart(id);
  }

  /** Snapshots `id` at its applied index and compacts its log, as the storage layer would. */
  compact(id: NodeId): Snapshot {
    const node = this.node(id);
    const meta = node.raft.snapshotMetaAt(node.raft.status().applied);
    const snapshot: Snapshot = { meta, data: bytes(`state at ${meta.index}`) };
    node.disk.saveSnapshot(snapshot);
    node.raft.compact(snapshot);
    return snapshot;
  }

  /** Payloads of the normal entries `id` applied, in order. */
  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((entry) => entry.kind === 'normal')
      .map(text);
  }

  private boot(id: NodeId, disk: Disk, starts: number): Raft {
    // Distinct seeds per node and per start, so timeouts differ the way they would in a real cluster.
    const seed = [...id].reduce((sum, char) => sum * 31 + char.charCodeAt(0), 7) + starts * 1009;
    return new Raft(raftConfig(id, this.config), disk.load(), new Prng(seed));
  }

  private process(node: TestNode): void {
    while (node.raft.hasReady()) {
      const ready = node.raft.ready();
      node.disk.write(ready);
      this.queue.push(...ready.messages);
      this.sent.push(...ready.messages);
      if (ready.snapshot !== undefined) node.installedSnapshots.push(ready.snapshot);
      node.applied.push(...ready.committedEntries);
      node.readStates.push(...ready.readStates);
      node.readFailures.push(...ready.readFailures);
      node.raft.advance();
    }
  }
}

/** The index a proposal was given; fails the test when it was refused. */
export function accepted(result: ProposeResult): number {
  if (!result.ok) throw result.error;
  return result.index;
}

/** A predicate for messages of `type`, optionally between given nodes, that narrows the message type. */
export function is<T extends MessageType>(type: T, route: { from?: NodeId; to?: NodeId } = {}) {
  return (message: Message): message is Message & { type: T } =>
    message.type === type && (route.from === undefined || message.from === route.from) && (route.to === undefined || message.to === route.to);
}

export function bytes(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

export function text(entry: Entry): string {
  return new TextDecoder().decode(entry.data);
}

export function entry(index: number, term: number, data = `e${index}t${term}`): Entry {
  return { index, term, kind: 'normal', data: bytes(data) };
}

export function configEntry(index: number, term: number, membership: Membership): Entry {
  return { index, term, kind: 'config', data: new Uint8Array(0), membership };
}

/**
 * A disk holding the bootstrap entry followed by one normal entry per element of `terms` (entry 2
 * has term terms[0]), with the current term at least the last entry's and only the bootstrap committed.
 */
export function diskWith(terms: readonly number[], hardState: Partial<HardState> = {}, membership = THREE_VOTERS): PersistedState {
  const base = bootstrapState(membership);
  const entries = [...base.entries, ...terms.map((term, offset) => entry(offset + 2, term))];
  const term = Math.max(1, ...terms);
  return { hardState: { term, vote: '', commit: 1, ...hardState }, entries };
}

/** Only n2 of n1..n3 runs, so the test plays its leader by hand. */
export function lonelyFollower(disk: PersistedState = bootstrapState(THREE_VOTERS)): Cluster {
  return new Cluster({ voters: THREE, absent: ['n1', 'n3'], states: { n2: disk } });
}

/** An AppendEntries from `from` to `to`, with the fields a test does not care about defaulted. */
export function appendMessage(fields: {
  from?: NodeId;
  to?: NodeId;
  term: number;
  prevIndex: number;
  prevTerm: number;
  entries?: readonly Entry[];
  commit?: number;
}): Message {
  return { type: 'append', from: 'n1', to: 'n2', entries: [], commit: 0, ...fields };
}

/** Messages in either direction between `a` and `b`. */
export function between(a: NodeId, b: NodeId) {
  return (message: Message): boolean => (message.from === a && message.to === b) || (message.from === b && message.to === a);
}

/** Terms of entries firstIndex..lastIndex of `id`'s log. */
export function termsOf(cluster: Cluster, id: NodeId): (number | undefined)[] {
  const { firstIndex, lastIndex } = cluster.status(id);
  const terms: (number | undefined)[] = [];
  for (let index = firstIndex; index <= lastIndex; index++) terms.push(cluster.raft(id).termAt(index));
  return terms;
}
