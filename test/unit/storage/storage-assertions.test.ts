import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/shared/index.ts';
import { type AckedMark, markFor } from '../../../src/storage/acked-mark.ts';
import { chunkOf, encodeChunkedRecord, SNAPSHOT_CHUNK_BYTES } from '../../../src/storage/chunked-snapshot.ts';
import { encodeEntry, GENESIS_LINK, LINK_BYTES } from '../../../src/storage/entry-codec.ts';
import { LevelStorage } from '../../../src/storage/level-storage.ts';
import { MarkFile } from '../../../src/storage/mark-file.ts';
import { entry, ready } from '../../support/ready-builder.ts';

const mark: AckedMark = { id: 'n1', term: 3, vote: 'a', previous: { index: 0, term: 0 }, current: { index: 0, term: 0 } };
const META = { index: 1, term: 1, membership: { voters: ['a'], learners: [] } };

// Goal: the preconditions the storage's callers inside the process must honour fail loudly, as bugs.
describe('storage assertions', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-storage-assertions-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('the mark never takes a term that goes back, nor a second vote in its term', () => {
    expect(() => markFor(mark, ready({ hardState: { term: 2, vote: 'a', commit: 0 } }))).toThrow(AssertionError);
    expect(() => markFor(mark, ready({ hardState: { term: 3, vote: 'b', commit: 0 } }))).toThrow(/second vote/);
    // A first vote in the term, and any vote in a later one, are what Raft does.
    expect(markFor({ ...mark, vote: '' }, ready({ hardState: { term: 3, vote: 'b', commit: 0 } }))?.vote).toBe('b');
    expect(markFor(mark, ready({ hardState: { term: 4, vote: '', commit: 0 } }))?.term).toBe(4);
  });

  it('mark writes must not overlap', async () => {
    const { file } = await MarkFile.open(join(directory, 'mark'));
    const first = file.write(mark);
    await expect(file.write(mark)).rejects.toThrow(/must not overlap/);
    await first;
    await file.close();
  });

  it('entries are chained from a whole link, and snapshot chunks and records are what a load accepts', () => {
    expect(() => encodeEntry(entry(1, 1), new Uint8Array(LINK_BYTES - 1))).toThrow(AssertionError);
    expect(() => encodeEntry(entry(0, 1), GENESIS_LINK)).toThrow(AssertionError);
    const data = new Uint8Array(SNAPSHOT_CHUNK_BYTES + 1);
    expect(chunkOf(data, 1)).toHaveLength(1);
    expect(() => chunkOf(data, 2)).toThrow(AssertionError);
    const record = { meta: META, link: GENESIS_LINK, dataChecksum: new Uint8Array(16), bytes: data.length, chunks: 2 };
    expect(encodeChunkedRecord(record)[0]).toBe(0xc2);
    expect(() => encodeChunkedRecord({ ...record, chunks: 3 })).toThrow(AssertionError);
    expect(() => encodeChunkedRecord({ ...record, link: new Uint8Array(8) })).toThrow(AssertionError);
  });

  it('the log takes only entries that continue it, without gaps', async () => {
    const storage = await LevelStorage.open(directory);
    await storage.load();
    await storage.save(ready({ entries: [entry(1, 1), entry(2, 1)] }));
    await expect(storage.save(ready({ entries: [entry(4, 1)] }))).rejects.toThrow(/continue the stored log/);
    await expect(storage.save(ready({ entries: [entry(3, 1), entry(5, 1)] }))).rejects.toThrow(/contiguous/);
    await storage.saveSnapshot({ meta: { ...META, index: 2 }, data: Uint8Array.of(1) });
    await expect(storage.saveSnapshot({ meta: META, data: Uint8Array.of(1) })).rejects.toThrow(/outside the stored log/);
    await storage.close();
  });
});
