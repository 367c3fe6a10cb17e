import type { PersistedState, Ready, Snapshot } from '../raft/index.ts';
import { assert } from '../shared/index.ts';
import { type AckedMark, markFor, settledMark } from './acked-mark.ts';
import type { MarkFile } from './mark-file.ts';
import type { RaftStorage } from './storage-port.ts';

/**
 * How long the writes must pause before the mark is settled (see `settledMark`). Under load the next
 * write follows the last at once (group commit), so this much quiet means the writes have paused;
 * short, so that the time in which losing the last write would pass for a torn one stays short, at
 * the price of one small synced write per pause.
 */
const SETTLE_AFTER_MS = 20;

/**
 * Writes the acknowledged mark beside every ready that moves the end of the log or records a new
 * term or vote. Both writes run at once and both are awaited before `save` resolves, so the mark is
 * durable before any acknowledgement or vote that depends on the ready leaves, at the price of one
 * fsync of a small file running beside LevelDB's, never after it.
 *
 * Until the next write, the mark cannot tell a torn last write from a lost one. Under load the next
 * write comes at once; when writes pause, the mark is settled off the write path so that losing
 * the last write is caught too.
 */
export class MarkedStorage implements RaftStorage {
  private settleTimer: NodeJS.Timeout | undefined;
  /** The mark write under way, if any: two must never overlap (they could share a slot). */
  private markWrite: Promise<void> = Promise.resolve();
  /** A save is under way: `markFor` takes the mark before it as the last completed write. */
  private saving = false;

  constructor(
    private readonly inner: RaftStorage,
    private readonly file: MarkFile,
    private mark: AckedMark,
  ) {}

  load(): Promise<PersistedState> {
    return this.inner.load();
  }

  async save(ready: Ready): Promise<void> {
    assert(!this.saving, 'saves must not overlap: the driver writes one ready at a time');
    this.saving = true;
    try {
      await this.write(ready);
    } finally {
      this.saving = false;
    }
  }

  private async write(ready: Ready): Promise<void> {
    const next = markFor(this.mark, ready);
    // A ready that leaves the mark as it is (a new commit index, typically the one that follows
    // every write) is not a write the settling must wait for: it would otherwise never come.
    if (next === undefined) return this.inner.save(ready);
    clearTimeout(this.settleTimer);
    await this.markWrite;
    const markWrite = this.file.write(next);
    this.markWrite = markWrite.catch(() => undefined);
    await Promise.all([this.inner.save(ready), markWrite]);
    this.mark = next;
    this.settleTimer = setTimeout(() => this.settle(), SETTLE_AFTER_MS).unref();
  }

  private settle(): void {
    const settled = settledMark(this.mark);
    if (settled === undefined) return;
    const written = this.mark;
    // A failure here only leaves the mark as it was; a failing disk surfaces on the next save.
    this.markWrite = this.file.write(settled).then(
      () => {
        if (this.mark === written) this.mark = settled;
      },
      () => undefined,
    );
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    // A local snapshot moves neither end of the log: it only compacts what the mark already covers.
    return this.inner.saveSnapshot(snapshot);
  }

  getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.inner.getMeta(key);
  }

  putMeta(key: string, value: Uint8Array): Promise<void> {
    return this.inner.putMeta(key, value);
  }

  async close(): Promise<void> {
    clearTimeout(this.settleTimer);
    await this.markWrite;
    await this.inner.close();
    await this.file.close();
  }
}
