import type { Logger } from 'pino';
import { type QueueCommand, type QueueResult, QueueStateMachine, RELEASE_CLUSTER_VERSION } from '../../queue/index.ts';
import type { Entry, Snapshot } from '../../raft/index.ts';
import { assert } from '../../shared/index.ts';
import { EntryCommands, UnsupportedCommandError } from './entry-commands.ts';
import type { LocalSnapshots } from './local-snapshots.ts';

const EMPTY_QUEUES = new QueueStateMachine().snapshot();

/** Who hears what the replica applies: the request path (answers, reads, long polls). */
export interface AppliedListener {
  onCommandApplied(command: QueueCommand): void;
  onEntryApplied(index: number, term: number, results: readonly QueueResult[]): void;
  onAppliedIndex(index: number): void;
  onRestored(index: number): void;
}

export interface QueueReplicaOptions {
  readonly machine: QueueStateMachine;
  readonly listener: AppliedListener;
  readonly snapshots: LocalSnapshots;
  /** Counts entries and commands skipped (see `EntryCommands`): any is a bug or a forged entry. */
  readonly onRejected: (reason: 'decode' | 'apply') => void;
  readonly log: Logger;
}

/**
 * This node's replica of the queues: the state machine and the index of the log applied to it.
 * Committed entries and the leader's snapshots arrive here from the ready loop, and nowhere else.
 */
export class QueueReplica {
  private index = 0;
  private readonly commands: EntryCommands;

  constructor(private readonly options: QueueReplicaOptions) {
    this.commands = new EntryCommands({
      machine: options.machine,
      onApplied: (command) => options.listener.onCommandApplied(command),
      onRejected: (reason, detail) => this.onRejected(reason, detail),
    });
  }

  get appliedIndex(): number {
    return this.index;
  }

  /** The state storage holds (at start, and again after disk trouble): a snapshot, or nothing yet. */
  restore(snapshot: Snapshot | undefined): void {
    this.options.machine.restore(snapshot?.data ?? EMPTY_QUEUES);
    this.refuseNewerVersion(snapshot?.meta.index ?? 0);
    this.index = snapshot?.meta.index ?? 0;
    this.options.snapshots.reset(this.index);
    this.options.listener.onRestored(this.index);
  }

  apply(entry: Entry): void {
    assert(entry.index === this.index + 1, 'entries are applied in order, none skipped');
    this.index = entry.index;
    if (entry.kind === 'normal') this.options.listener.onEntryApplied(entry.index, entry.term, this.commands.apply(entry));
    this.options.listener.onAppliedIndex(this.index);
    this.options.snapshots.onApplied(this.index, entry.data.length);
  }

  /** A snapshot from the leader replaces the whole queue state (this node was behind its log). */
  installSnapshot(snapshot: Snapshot): void {
    this.options.machine.restore(snapshot.data);
    this.refuseNewerVersion(snapshot.meta.index);
    this.index = snapshot.meta.index;
    this.options.snapshots.onInstalled(snapshot);
    this.options.listener.onAppliedIndex(this.index);
    this.options.log.info({ index: snapshot.meta.index, bytes: snapshot.data.length }, 'installed a snapshot from the leader');
  }

  /** A state of a cluster version past this release's is run by no node of it (see `UnsupportedCommandError`). */
  private refuseNewerVersion(index: number): void {
    const version = this.options.machine.clusterVersion;
    if (version > RELEASE_CLUSTER_VERSION) throw UnsupportedCommandError.clusterVersion(index, version, 'snapshot');
  }

  private onRejected(reason: 'decode' | 'apply', detail: { index: number; error?: unknown; type?: string }): void {
    this.options.onRejected(reason);
    const what = reason === 'decode' ? 'an entry in the log does not decode into commands' : 'a command in the log failed to apply';
    this.options.log.error({ err: detail.error, index: detail.index, type: detail.type }, `${what}; it was skipped on every replica`);
  }
}
