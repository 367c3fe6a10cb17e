import type { PersistedState, Ready, Snapshot } from '../raft/index.ts';
import { type AckedMark, markFor } from './acked-mark.ts';
import type { MarkFile } from './mark-file.ts';
import type { RaftStorage } from './storage-port.ts';

/**
 * Writes the acknowledged mark beside every ready that moves the end of the log or records a new
 * term or vote. Both writes run at once and both are awaited before `save` resolves, so the mark is
 * durable before any acknowledgement or vote that depends on the ready leaves, at the price of one
 * fsync of a small file running beside LevelDB's, never after it.
 */
export class MarkedStorage implements RaftStorage {
  constructor(
    private readonly inner: RaftStorage,
    private readonly file: MarkFile,
    private mark: AckedMark,
  ) {}

  load(): Promise<PersistedState> {
    return this.inner.load();
  }

  async save(ready: Ready): Promise<void> {
    const next = markFor(this.mark, ready);
    if (next === undefined) return this.inner.save(ready);
    await Promise.all([this.inner.save(ready), this.file.write(next)]);
    this.mark = next;
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
    await this.inner.close();
    await this.file.close();
  }
}
