import type { Logger } from 'pino';
import { bootstrapState, type NodeId, type PersistedState, type Raft } from '../../raft/index.ts';
import { decode, encode } from '../../shared/codec.ts';
import type { RaftStorage } from '../../storage/index.ts';
import type { PeerIdentity } from '../../transport/index.ts';
import { decideBootstrap } from './bootstrap-decision.ts';
import { EMPTY_READY } from './empty-ready.ts';
import { FOUNDERS_META_KEY } from './refounding.ts';

/** Runs an input on the core between ready batches; a Raft the input resolves to replaces the core. */
export interface FoundingCore {
  readonly core: Raft;
  submit(input: (raft: Raft) => Promise<Raft | undefined>): void;
}

export interface ClusterFoundingOptions {
  readonly id: NodeId;
  /** Blank nodes that must find each other before founding a cluster; 0 = join an existing one. */
  readonly bootstrapExpect: number;
  readonly driver: FoundingCore;
  /** The peers this node has authenticated links to. */
  readonly peers: () => readonly PeerIdentity[];
  /** A core for the state storage holds, as the node builds it at start. */
  readonly newCore: (persisted: PersistedState) => Raft;
  readonly log: Logger;
  /** The clock for retrying a founders write the disk refused; `performance.now` by default. */
  readonly nowMs?: () => number;
}

/** A founders write the disk refused is tried again after this long, doubling up to the most. */
const LEARN_RETRY_FIRST_MS = 1_000;
const LEARN_RETRY_MAX_MS = 30_000;

/**
 * Which nodes founded this node's cluster: null until it founds one with the peers it found (see
 * `decideBootstrap`), or learns them from the first entry of a log it received or, when its log
 * starts at a snapshot (a cluster refounded from old data always does), from the leader that
 * replicated to it. Peers exchange founders in their handshake and nodes whose founders differ
 * are refused (`foundersConflict`), so nodes of different clusters never merge.
 */
export class ClusterFounding {
  private foundersKnown: readonly NodeId[] | null = null;
  private storage: RaftStorage | undefined;
  /** A founders write is in flight: housekeeping starts no other. */
  private storing = false;
  private retryAtMs = 0;
  private retryDelayMs = LEARN_RETRY_FIRST_MS;

  constructor(private readonly options: ClusterFoundingOptions) {}

  get founders(): readonly NodeId[] | null {
    return this.foundersKnown;
  }

  /** Reads what storage recorded (at start, and again after disk trouble). */
  async load(storage: RaftStorage): Promise<void> {
    this.storage = storage;
    const bytes = await storage.getMeta(FOUNDERS_META_KEY);
    this.foundersKnown = bytes === undefined ? null : (decode(bytes) as NodeId[]);
  }

  /** A peer was authenticated: with enough of them, a blank node founds the cluster. */
  onPeer(): void {
    this.maybeBootstrap();
  }

  /** A node that joined by replication announces the founders its log starts with, or its leader's. */
  onHousekeeping(): void {
    if (this.foundersKnown !== null || this.storing || this.now() < this.retryAtMs) return;
    const core = this.options.driver.core;
    const first = core.entryAt(1);
    if (first?.kind === 'config' && first.membership !== undefined) {
      this.learn(first.membership.voters);
      return;
    }
    const status = core.status();
    if (status.lastIndex === 0 || status.recovering) {
      this.maybeBootstrap();
      return;
    }
    // A log that starts at a snapshot came from a leader; the handshake refused any leader of
    // another cluster that announced its founders, so the leader's are this cluster's.
    const leader = this.options.peers().find((peer) => peer.id === status.leader);
    if (leader?.founders !== null && leader?.founders !== undefined) this.learn(leader.founders);
  }

  /**
   * Kept, so that the node announces them from its next start on, before any leader speaks to it:
   * once its log is compacted past the first entry, nothing else would tell it. Announced only once
   * stored: a node that announced founders it then lost in a crash would announce none at its next
   * start while holding state, which a refounded cluster refuses (see `foundersConflict`). A write
   * the disk refuses is tried again at a later housekeeping, after a growing pause.
   */
  private learn(founders: readonly NodeId[]): void {
    const storage = this.storage;
    if (storage === undefined) return;
    this.storing = true;
    storage.putMeta(FOUNDERS_META_KEY, encode(founders)).then(
      () => {
        this.storing = false;
        this.retryDelayMs = LEARN_RETRY_FIRST_MS;
        // Storage reloaded meanwhile (disk trouble): what it holds is read again by `load`.
        if (storage !== this.storage || this.foundersKnown !== null) return;
        this.foundersKnown = founders;
        this.options.log.info({ founders }, 'learnt the founders of this cluster');
      },
      (error: unknown) => {
        this.storing = false;
        this.retryAtMs = this.now() + this.retryDelayMs;
        this.options.log.warn({ err: error, retryInMs: this.retryDelayMs }, 'could not store the founders of this cluster; trying again');
        this.retryDelayMs = Math.min(LEARN_RETRY_MAX_MS, this.retryDelayMs * 2);
      },
    );
  }

  private now(): number {
    return (this.options.nowMs ?? (() => performance.now()))();
  }

  private maybeBootstrap(): void {
    // A recovering node was a member: its log is empty because it was discarded, not because it is new.
    const status = this.options.driver.core.status();
    if (this.foundersKnown !== null || status.lastIndex > 0 || status.recovering) return;
    const decision = decideBootstrap(this.options.id, this.options.bootstrapExpect, this.options.peers());
    if (decision.kind === 'wait') {
      this.options.log.debug({ reason: decision.reason }, 'not bootstrapping yet');
      return;
    }
    const founders = decision.founders;
    this.options.driver.submit(async (raft) => {
      // Only a node that is still blank founds: one that already received the log has joined.
      const storage = this.storage;
      if (raft.status().lastIndex > 0 || this.foundersKnown !== null || storage === undefined) return undefined;
      const state = bootstrapState({ voters: [...founders], learners: [] });
      await storage.putMeta(FOUNDERS_META_KEY, encode(founders));
      await storage.save({ ...EMPTY_READY, hardState: state.hardState, entries: state.entries, mustSync: true });
      this.foundersKnown = founders;
      this.options.log.info({ founders }, 'bootstrapped a new cluster');
      return this.options.newCore(await storage.load());
    });
  }
}
