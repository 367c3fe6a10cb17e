import { describe, expect, it } from 'vitest';
import type { Ready } from '../../../src/raft/index.ts';
import { EMPTY_READY } from '../../../src/server/membership/empty-ready.ts';
import { AssertionError } from '../../../src/shared/index.ts';
import { GuardedStorage } from '../../../src/storage/guarded-storage.ts';
import type { RaftStorage } from '../../../src/storage/index.ts';
import { DiskFaults, MemoryStorage, StorageWriteError } from '../../../src/storage/index.ts';

const APPEND: Ready = { ...EMPTY_READY, entries: [{ index: 1, term: 1, kind: 'normal', data: new Uint8Array([1]) }], mustSync: true };

describe('GuardedStorage', () => {
  it('fails every write with the injected code, and writes again once cleared', async () => {
    const inner = new MemoryStorage();
    const faults = new DiskFaults();
    const storage = new GuardedStorage(inner, faults);
    faults.fail('ENOSPC');
    const error = await storage.save(APPEND).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageWriteError);
    expect((error as StorageWriteError).reason).toBe('ENOSPC');
    await expect(storage.putMeta('key', new Uint8Array([1]))).rejects.toBeInstanceOf(StorageWriteError);
    expect((await inner.load()).entries).toHaveLength(0);
    faults.clear();
    await storage.save(APPEND);
    expect((await inner.load()).entries).toHaveLength(1);
    expect(faults.injected).toBe(1);
  });

  it('holds writes while stalled and lets them through once resumed', async () => {
    const inner = new MemoryStorage();
    const faults = new DiskFaults();
    const storage = new GuardedStorage(inner, faults);
    faults.stallWrites();
    let saved = false;
    const save = storage.save(APPEND).then(() => {
      saved = true;
    });
    // Several turns of the event loop: a stalled write must not finish on its own.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toBe(false);
    expect((await inner.load()).entries).toHaveLength(0);
    // A ready that only moves the commit index writes nothing, so the stall cannot hold it.
    await storage.save({ ...EMPTY_READY, hardState: { term: 1, vote: '', commit: 1 } });
    faults.resume();
    await save;
    expect((await inner.load()).entries).toHaveLength(1);
    expect(faults.stalled).toBe(false);
  });

  it('turns a failure below it into a StorageWriteError that names the system error', async () => {
    const failing: RaftStorage = {
      load: () => new MemoryStorage().load(),
      save: () => Promise.reject(Object.assign(new Error('IO error: 000003.log: No space left on device'), { code: 'LEVEL_IO_ERROR' })),
      saveSnapshot: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })),
      getMeta: () => Promise.resolve(undefined),
      putMeta: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const storage = new GuardedStorage(failing, undefined);
    const onSave = (await storage.save(APPEND).catch((caught: unknown) => caught)) as StorageWriteError;
    expect(onSave.reason).toBe('ENOSPC');
    expect(onSave.message).toContain('writing the log failed');
    const onSnapshot = (await storage
      .saveSnapshot({ meta: { index: 1, term: 1, membership: { voters: ['a'], learners: [] } }, data: new Uint8Array() })
      .catch((caught: unknown) => caught)) as StorageWriteError;
    expect(onSnapshot.reason).toBe('EIO');
    expect(onSnapshot.corruption).toBe(false);
    const corrupt = new StorageWriteError('writing the log', Object.assign(new Error('Corruption: block checksum mismatch'), { code: 'LEVEL_CORRUPTION' }));
    expect(corrupt.corruption).toBe(true);
    expect(new StorageWriteError('reopening', corrupt).corruption).toBe(true);
  });

  it('lets a failed assertion below it through as it is: a bug stops the node, it is not disk trouble', async () => {
    const buggy: RaftStorage = {
      load: () => new MemoryStorage().load(),
      save: () => Promise.reject(new AssertionError('entries are written contiguously')),
      saveSnapshot: () => Promise.resolve(),
      getMeta: () => Promise.resolve(undefined),
      putMeta: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const caught = await new GuardedStorage(buggy, undefined).save(APPEND).catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(AssertionError);
    expect(caught).not.toBeInstanceOf(StorageWriteError);
  });
});
