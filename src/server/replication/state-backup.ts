import { createHash } from 'node:crypto';
import type { Raft } from '../../raft/index.ts';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupHeader, backupDigestPrefix } from '../../shared/backup-format.ts';
import { RequestError } from '../../shared/index.ts';

export interface StateBackupsOptions {
  /** Runs `input` on the core between ready batches. */
  readonly submit: (input: (raft: Raft) => void) => void;
  /** The applied index and the queues' state at it: read together, between ready batches. */
  readonly appliedIndex: () => number;
  readonly encodeState: () => PartsEncoding;
  readonly now: () => number;
}

/** The queues' state taken at one index, packed a slice per `packStep` (see `SlicedEncoding`). */
export interface PartsEncoding {
  packStep(): boolean;
  takeParts(): Uint8Array[];
  release(): void;
}

/** A backup's header and the encoded state, in parts (see `SlicedEncoding.takeParts`). */
export interface CapturedBackup {
  readonly header: BackupHeader;
  /** The state in order; the writer may drop each part once written. */
  readonly parts: Uint8Array[];
}

/** Bytes hashed per turn of the event loop: a few milliseconds. */
const HASH_BYTES_PER_TURN = 8 * 1024 * 1024;
/**
 * How long the capture may wait for its turn between ready batches. A driver stopped meanwhile (its
 * disk refused a write) drops the input, which would otherwise hold the one backup slot for good.
 */
const TAKE_WAIT_MS = 10_000;
/** A second backup asked for while one runs: try again in this long. */
const BUSY_RETRY_MS = 5_000;

/**
 * Backups of the queues' state at one applied index, taken as a local snapshot is (see
 * `LocalSnapshots`): the state is captured between ready batches, then packed a slice per turn of
 * the event loop while the node goes on serving (copy on write keeps what changes meanwhile as it
 * was). The packed parts are hashed and handed to the writer unjoined, so a backup costs about one
 * encoded copy of the state, and one backup at a time runs per node: memory stays bounded.
 */
export class StateBackups {
  private running = false;

  constructor(private readonly options: StateBackupsOptions) {}

  /**
   * Captures the state now and hands it to `write`. The caller has passed a read barrier at
   * `barrierIndex`: a state captured below it (this node's applied index went back, a snapshot
   * being installed) would miss writes acknowledged before the backup was asked for, and is refused
   * with a retryable error.
   */
  async run(write: (backup: CapturedBackup) => Promise<void>, barrierIndex: number): Promise<void> {
    if (this.running) throw new RequestError('OVERLOADED', 'a backup is already being taken on this node; retry once it is done', BUSY_RETRY_MS);
    this.running = true;
    try {
      await write(await this.capture(barrierIndex));
    } finally {
      this.running = false;
    }
  }

  private async capture(barrierIndex: number): Promise<CapturedBackup> {
    const { index, term, encoding } = await this.take(barrierIndex);
    let parts: Uint8Array[];
    try {
      while (!encoding.packStep()) await nextTurn();
      parts = encoding.takeParts();
    } finally {
      encoding.release();
    }
    const fields = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      index,
      term,
      createdAt: new Date(this.options.now()).toISOString(),
      bytes: parts.reduce((sum, part) => sum + part.length, 0),
    } as const;
    const hash = createHash('sha256').update(backupDigestPrefix(fields));
    let hashed = 0;
    for (const part of parts) {
      hash.update(part);
      hashed += part.length;
      if (hashed >= HASH_BYTES_PER_TURN) {
        hashed = 0;
        await nextTurn();
      }
    }
    return { header: { ...fields, sha256: hash.digest('hex') }, parts };
  }

  /** The applied index, its term and the state at it, read together between ready batches. */
  private take(barrierIndex: number): Promise<{ index: number; term: number; encoding: PartsEncoding }> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(new RequestError('UNAVAILABLE', 'the node could not take its state in time; retry', 1_000));
      }, TAKE_WAIT_MS);
      timer.unref();
      this.options.submit((raft) => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(timer);
        const index = this.options.appliedIndex();
        const core = raft.status();
        // As for a local snapshot: a snapshot from the leader may have moved the core past what
        // was applied here; the state is about to be replaced, and a retry sees the new one.
        if (index < core.firstIndex - 1 || index > core.applied) {
          reject(new RequestError('UNAVAILABLE', 'this node is installing a snapshot; retry', 1_000));
          return;
        }
        if (index < barrierIndex) {
          reject(new RequestError('UNAVAILABLE', `this node has applied index ${index}, below the read barrier's ${barrierIndex}; retry`, 1_000));
          return;
        }
        resolve({ index, term: raft.snapshotMetaAt(index).term, encoding: this.options.encodeState() });
      });
    });
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
