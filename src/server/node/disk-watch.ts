import { freeBytes, StorageWriteError } from '../../storage/index.ts';

export interface DiskWatchOptions {
  readonly dataDir: string;
  /** A synced write still waiting after this long counts as a failed disk. */
  readonly diskStallMs: number;
  /** Free bytes below this count as a full disk. */
  readonly diskReserveBytes: number;
  /** How long the synced write under way has been waiting, 0 if none is. */
  readonly writeWaitingMs: () => number;
  /** True while a trouble episode runs or the node stops: nothing to report then. */
  readonly quiet: () => boolean;
  readonly onFailure: (error: StorageWriteError) => void;
}

/**
 * Disk failures that no write reports: a write that never finishes, and a disk about to fill.
 * Either is reported as the failed write it stands for, so the node handles it like any other.
 */
export class DiskWatch {
  constructor(private readonly options: DiskWatchOptions) {}

  /**
   * A write that never finishes fails nothing, so the node would stay in the Ready loop, sending
   * no heartbeats and answering no one, until the proposal timeout. Once the disk has sat on one
   * write for longer than `diskStallMs`, the node treats it like a disk that refused the write.
   */
  checkStall(): void {
    const waitingMs = this.options.writeWaitingMs();
    if (waitingMs <= this.options.diskStallMs || this.options.quiet()) return;
    const stalled = Object.assign(new Error(`the disk has not finished a synced write in ${Math.round(waitingMs)} ms`), { code: 'DISK_STALLED' });
    this.options.onFailure(new StorageWriteError('writing the log', stalled));
  }

  /** Running out of space is caught before LevelDB hits it mid-write, with room left to recover. */
  async checkFreeSpace(): Promise<void> {
    if (this.options.quiet()) return;
    const free = await freeBytes(this.options.dataDir).catch(() => Infinity);
    if (free >= this.options.diskReserveBytes || this.options.quiet()) return;
    const full = Object.assign(new Error(`ENOSPC: ${free} bytes free, below the reserve of ${this.options.diskReserveBytes}`), { code: 'ENOSPC' });
    this.options.onFailure(new StorageWriteError('checking free space', full));
  }
}
