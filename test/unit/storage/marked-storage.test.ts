import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AckedMark } from '../../../src/storage/acked-mark.ts';
import { MarkFile } from '../../../src/storage/mark-file.ts';
import { MarkedStorage } from '../../../src/storage/marked-storage.ts';
import { MemoryStorage } from '../../../src/storage/memory-storage.ts';
import { entry, ready } from '../../support/ready-builder.ts';

const START: AckedMark = { id: 'n1', term: 1, vote: 'n1', previous: { index: 0, term: 0 }, current: { index: 0, term: 0 } };

/** Longer than the storage waits before it settles the mark. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('marked storage', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-marked-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  async function open(): Promise<MarkedStorage> {
    const { file } = await MarkFile.open(join(directory, 'mark'));
    await file.write(START);
    return new MarkedStorage(new MemoryStorage(), file, START);
  }

  async function markOnDisk(): Promise<AckedMark | undefined> {
    const { file, contents } = await MarkFile.open(join(directory, 'mark'));
    await file.close();
    return contents.mark;
  }

  it('settles the mark once writes pause, even when a commit-only ready follows the last write', async () => {
    const storage = await open();
    await storage.save(ready({ entries: [entry(1, 1), entry(2, 1)], hardState: { term: 1, vote: 'n1', commit: 0 } }));
    // The commit index moves once the entries are acknowledged: nothing for the mark to record.
    await storage.save(ready({ hardState: { term: 1, vote: 'n1', commit: 2 }, mustSync: false }));
    await pause();
    await storage.close();
    // Settled: losing the last write is now caught at the next start, not taken for a torn one.
    expect(await markOnDisk()).toMatchObject({ previous: { index: 2, term: 1 }, current: { index: 2, term: 1 } });
  });

  it('refuses a save that starts before the one before it has finished', async () => {
    const storage = await open();
    const first = storage.save(ready({ entries: [entry(1, 1)] }));
    await expect(storage.save(ready({ entries: [entry(2, 1)] }))).rejects.toThrow(/saves must not overlap/);
    await first;
    await storage.close();
  });
});
