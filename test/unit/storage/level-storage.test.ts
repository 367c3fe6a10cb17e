import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry, Ready, Snapshot } from '../../../src/raft/index.ts';
import { decode, encode } from '../../../src/shared/codec.ts';
import { LevelStorage } from '../../../src/storage/index.ts';
import { ready } from '../../support/ready-builder.ts';

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, kind: 'normal', data: new TextEncoder().encode(text) };
}

function readyWith(entries: Entry[], commit = 0, term = 1): Ready {
  return ready({ hardState: { term, vote: 'a', commit }, entries });
}

type RawStore = ClassicLevel<Uint8Array, Uint8Array>;

/** The keys LevelStorage writes, built here on their own so that the tests check its layout. */
function logKeyOf(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = 0x6c;
  new DataView(key.buffer).setBigUint64(1, BigInt(index));
  return key;
}

function metaKeyOf(name: string): Uint8Array {
  return new Uint8Array([0x6d, ...new TextEncoder().encode(name)]);
}

const snapshotKeyOf = (index: number) => metaKeyOf(`raft/snapshot/${index.toString(16).padStart(16, '0')}`);
const CHUNK_PREFIX = 'raft/snapshot-chunk/';

describe('LevelStorage', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-storage-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  async function reopen(): Promise<LevelStorage> {
    return LevelStorage.open(directory);
  }

  /** Opens the store itself, behind the storage layer's back, for `use`. */
  async function withRaw<T>(use: (raw: RawStore) => Promise<T>): Promise<T> {
    const raw: RawStore = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      return await use(raw);
    } finally {
      await raw.close();
    }
  }

  /** Stores entries 1..`lastIndex` (term 1, all committed), then each snapshot in turn, and closes. */
  async function storeLog(lastIndex: number, snapshots: readonly Snapshot[]): Promise<void> {
    const storage = await reopen();
    await storage.load();
    await storage.save(
      readyWith(
        Array.from({ length: lastIndex }, (_, i) => entry(i + 1, 1)),
        lastIndex,
      ),
    );
    for (const snapshot of snapshots) await storage.saveSnapshot(snapshot);
    await storage.close();
  }

  /** Edits the raw LevelDB record of one log entry behind the storage layer's back. */
  async function tamperWithEntry(index: number, edit: (raw: RawStore, key: Uint8Array) => Promise<void>): Promise<void> {
    await withRaw((raw) => edit(raw, logKeyOf(index)));
  }

  it('loads what was saved: entries, hard state, in order', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(readyWith([entry(1, 1), entry(2, 1)], 1));
    await storage.save(readyWith([entry(3, 2)], 2, 2));
    await storage.close();
    const loaded = await (await reopen()).load();
    expect(loaded.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    expect(loaded.hardState).toEqual({ term: 2, vote: 'a', commit: 2 });
  });

  it('replaces a conflicting tail, including entries beyond the new last one', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(readyWith([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)]));
    await storage.save(readyWith([entry(3, 2, 'replacement')], 0, 2));
    await storage.close();
    const loaded = await (await reopen()).load();
    expect(loaded.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    expect(new TextDecoder().decode(loaded.entries[2]!.data)).toBe('replacement');
  });

  it('reports an entry damaged on disk (LevelDB would not say), keeps the log before it and deletes the rest', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(readyWith([entry(1, 1), entry(2, 1), entry(3, 1)]));
    await storage.close();
    await tamperWithEntry(2, async (raw, key) => {
      const value = (await raw.get(key))!;
      value[value.length - 1] = value[value.length - 1]! ^ 0x01;
      await raw.put(key, value);
    });
    const damaged = await reopen();
    const loaded = await damaged.load();
    expect(loaded.entries.map((e) => e.index)).toEqual([1]);
    expect(damaged.damage.join('\n')).toMatch(/entry 2 fails its hash chain/);
    await damaged.close();
    expect(await logIndexesOnDisk()).toEqual([1]);
  });

  it('reports a missing entry in the middle, and a commit index beyond what remains', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(readyWith([entry(1, 1), entry(2, 1), entry(3, 1)], 3));
    await storage.close();
    await tamperWithEntry(2, (raw, key) => raw.del(key));
    const damaged = await reopen();
    const loaded = await damaged.load();
    expect(loaded.entries.map((e) => e.index)).toEqual([1]);
    expect(loaded.hardState.commit).toBe(1);
    expect(damaged.damage.join('\n')).toMatch(/entry 2 is missing[\s\S]*commit index 3 is beyond/);
    await damaged.close();
  });

  it('discards everything on request, keeping the node id and storing the given hard state', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.putMeta('node-id', Uint8Array.of(1));
    await storage.save(readyWith([entry(1, 1), entry(2, 1), entry(3, 1)], 3));
    await storage.saveSnapshot(snapshotAt(2, 20));
    await storage.discardAll({ term: 4, vote: 'b', commit: 0 });
    await storage.save(readyWith([entry(1, 4)], 0, 4));
    await storage.close();
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(loaded).toMatchObject({ hardState: { term: 4 }, entries: [{ index: 1, term: 4 }] });
    expect(loaded.snapshot).toBeUndefined();
    expect([...(await reopened.getMeta('node-id'))!]).toEqual([1]);
    await reopened.close();
  });

  it('keeps a snapshot and drops the entries it covers', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(readyWith([entry(1, 1), entry(2, 1), entry(3, 1)], 3));
    await storage.saveSnapshot({ meta: { index: 2, term: 1, membership: { voters: ['a'], learners: [] } }, data: Uint8Array.of(7) });
    await storage.save(readyWith([entry(4, 1)], 3));
    await storage.close();
    const loaded = await (await reopen()).load();
    expect(loaded.snapshot?.meta.index).toBe(2);
    expect(Array.from(loaded.snapshot!.data)).toEqual([7]);
    expect(loaded.entries.map((e) => e.index)).toEqual([3, 4]);
  });

  const membership = { voters: ['a'], learners: [] };
  const snapshotAt = (index: number, value: number) => ({ meta: { index, term: 1, membership }, data: Uint8Array.of(value) });

  /** Flips a bit inside the stored snapshot at `index`, as a bad sector would. */
  async function damageSnapshot(index: number): Promise<void> {
    await withRaw(async (raw) => {
      const value = (await raw.get(snapshotKeyOf(index)))!;
      value[value.length - 20] = value[value.length - 20]! ^ 0x10;
      await raw.put(snapshotKeyOf(index), value);
    });
  }

  async function logIndexesOnDisk(): Promise<number[]> {
    return withRaw(async (raw) => {
      const indexes: number[] = [];
      for await (const key of raw.keys({ gt: Uint8Array.of(0x6c), lt: Uint8Array.of(0x6d) })) {
        indexes.push(Number(new DataView(key.buffer, key.byteOffset).getBigUint64(1)));
      }
      return indexes;
    });
  }

  it('falls back to the previous snapshot and the log when the newest fails its checksum', async () => {
    await storeLog(6, [snapshotAt(2, 20), snapshotAt(5, 50)]);
    await damageSnapshot(5);
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(reopened.damagedSnapshots).toEqual([5]);
    expect(loaded.snapshot?.meta.index).toBe(2);
    expect(Array.from(loaded.snapshot!.data)).toEqual([20]);
    expect(loaded.entries.map((e) => e.index)).toEqual([3, 4, 5, 6]);
    await reopened.close();
  });

  it.each([
    [
      'one record, its checksum in front (0xc1)',
      (body: Uint8Array) => {
        const checksum = createHash('sha256').update(body).digest().subarray(0, 16);
        return Uint8Array.from([0xc1, ...checksum, ...body]);
      },
    ],
    ['one record, msgpack of body and checksum', (body: Uint8Array) => encode({ body, checksum: createHash('sha256').update(body).digest().subarray(0, 16) })],
  ])('reads a snapshot stored in an earlier layout: %s', async (_layout, recordOf) => {
    await storeLog(3, [snapshotAt(2, 20)]);
    await withRaw(async (raw) => {
      const chunked = (await raw.get(snapshotKeyOf(2)))!;
      expect(chunked[0]).toBe(0xc2);
      const { meta, link } = decode(chunked.subarray(17)) as { meta: unknown; link: Uint8Array };
      await raw.put(snapshotKeyOf(2), recordOf(encode({ meta, data: Uint8Array.of(20), link })));
    });
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(reopened.damagedSnapshots).toEqual([]);
    expect(loaded.snapshot?.meta.index).toBe(2);
    expect(Array.from(loaded.snapshot!.data)).toEqual([20]);
    expect(loaded.entries.map((e) => e.index)).toEqual([3]);
    await reopened.close();
  });

  it('keeps two snapshots and the log since the older one; a third drops the oldest', async () => {
    await storeLog(8, [snapshotAt(2, 20), snapshotAt(4, 40)]);
    expect(await logIndexesOnDisk()).toEqual([3, 4, 5, 6, 7, 8]);
    const second = await reopen();
    expect((await second.load()).entries.map((e) => e.index)).toEqual([5, 6, 7, 8]);
    await second.saveSnapshot(snapshotAt(7, 70));
    await second.close();
    expect(await logIndexesOnDisk()).toEqual([5, 6, 7, 8]);
    await damageSnapshot(7);
    const third = await reopen();
    const loaded = await third.load();
    expect(loaded.snapshot?.meta.index).toBe(4);
    expect(loaded.entries.map((e) => e.index)).toEqual([5, 6, 7, 8]);
    await third.close();
  });

  it('ignores log left below the fallback snapshot by a crash (its deletion follows the snapshot), and drops it with the next one', async () => {
    await storeLog(8, [snapshotAt(2, 20), snapshotAt(4, 40), snapshotAt(6, 60)]);
    expect(await logIndexesOnDisk()).toEqual([5, 6, 7, 8]);
    // As if the process died after the snapshot's batch and before the deletion behind it.
    await withRaw((raw) => raw.put(logKeyOf(2), Uint8Array.of(1, 2, 3)));
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(reopened.damage).toEqual([]);
    expect(loaded.snapshot?.meta.index).toBe(6);
    expect(loaded.entries.map((e) => e.index)).toEqual([7, 8]);
    await reopened.saveSnapshot(snapshotAt(8, 80));
    await reopened.close();
    expect(await logIndexesOnDisk()).toEqual([7, 8]);
  });

  /** The indexes of the snapshots whose data chunks are on disk, one per chunk. */
  async function chunksOnDisk(): Promise<number[]> {
    return withRaw(async (raw) => {
      const indexes: number[] = [];
      const start = 1 + CHUNK_PREFIX.length;
      for await (const key of raw.keys({ gte: metaKeyOf(CHUNK_PREFIX), lt: metaKeyOf(`${CHUNK_PREFIX}~`) })) {
        indexes.push(Number.parseInt(new TextDecoder().decode(key.subarray(start, start + 16)), 16));
      }
      return indexes;
    });
  }

  async function deleteChunk(index: number, chunk: number): Promise<void> {
    await withRaw((raw) => raw.del(metaKeyOf(`${CHUNK_PREFIX}${index.toString(16).padStart(16, '0')}/${chunk.toString(16).padStart(8, '0')}`)));
  }

  const large = (index: number, fill: number) => ({ meta: { index, term: 1, membership }, data: new Uint8Array(9 * 1024 * 1024 + 5).fill(fill) });

  it('stores a large snapshot in chunks under keys of their own, reads it back whole, and drops the chunks of replaced snapshots', async () => {
    await storeLog(6, [large(2, 2), large(4, 4)]);
    expect(await chunksOnDisk()).toEqual([2, 2, 2, 4, 4, 4]);
    const second = await reopen();
    const loaded = await second.load();
    expect(loaded.snapshot?.meta.index).toBe(4);
    expect(loaded.snapshot!.data.length).toBe(9 * 1024 * 1024 + 5);
    expect(loaded.snapshot!.data.every((byte) => byte === 4)).toBe(true);
    await second.saveSnapshot(large(6, 6));
    await second.close();
    expect(await chunksOnDisk()).toEqual([4, 4, 4, 6, 6, 6]);
  });

  it('stores a snapshot from the leader in chunks too, dropping the chunks of the local ones it replaces', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save(
      readyWith(
        [1, 2, 3, 4, 5, 6].map((i) => entry(i, 1)),
        6,
      ),
    );
    await storage.saveSnapshot(large(2, 2));
    await storage.saveSnapshot(large(4, 4));
    await storage.save({ ...readyWith([], 10), snapshot: large(10, 9) });
    await storage.close();
    expect(await chunksOnDisk()).toEqual([10, 10, 10]);
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(loaded.snapshot?.meta.index).toBe(10);
    expect(loaded.snapshot!.data.every((byte) => byte === 9)).toBe(true);
    expect(loaded.entries).toEqual([]);
    await reopened.close();
  });

  it('takes a snapshot with a chunk missing as damaged, and falls back to the previous one and the log', async () => {
    await storeLog(6, [large(2, 2), large(4, 4)]);
    await deleteChunk(4, 1);
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(reopened.damagedSnapshots).toEqual([4]);
    expect(loaded.snapshot?.meta.index).toBe(2);
    expect(loaded.entries.map((e) => e.index)).toEqual([3, 4, 5, 6]);
    await reopened.close();
  });

  it('deletes at start the chunks a crash left without their record', async () => {
    await storeLog(4, [large(2, 2)]);
    await withRaw((raw) => raw.del(snapshotKeyOf(2)));
    const reopened = await reopen();
    const loaded = await reopened.load();
    expect(loaded.snapshot).toBeUndefined();
    await reopened.close();
    expect(await chunksOnDisk()).toEqual([]);
  });

  it('reports an empty log when every snapshot is damaged and the log does not reach back to the start', async () => {
    const storage = await reopen();
    await storage.load();
    await storage.save({ ...readyWith([], 3), snapshot: snapshotAt(3, 30) });
    await storage.save(readyWith([entry(4, 1)], 4));
    await storage.close();
    await damageSnapshot(3);
    const damaged = await reopen();
    const loaded = await damaged.load();
    expect(loaded.snapshot).toBeUndefined();
    expect(loaded.entries).toEqual([]);
    expect(damaged.damagedSnapshots).toEqual([3]);
    expect(damaged.damage.join('\n')).toMatch(/entry 1 is missing/);
    await damaged.close();
  });
});
