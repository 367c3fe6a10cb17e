import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskTrouble, openWhenWritable } from '../../../../src/server/node/disk-trouble.ts';
import { StorageWriteError } from '../../../../src/storage/index.ts';

const full = (): StorageWriteError => new StorageWriteError('writing the log', Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));

describe('DiskTrouble', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries with doubling waits until the disk takes writes, then ends the episode', async () => {
    vi.useFakeTimers();
    let writable = false;
    const attempts: number[] = [];
    const trouble = new DiskTrouble({
      retryFirstMs: 100,
      retryMaxMs: 400,
      probe: async () => {
        attempts.push(Date.now());
        if (!writable) throw full();
      },
      reopen: async () => undefined,
      log: pino({ level: 'silent' }),
    });
    const start = Date.now();
    trouble.begin(full());
    trouble.begin(full());
    expect(trouble.active).toBe(true);
    expect(trouble.failures).toBe(1);
    expect(trouble.view()?.reason).toBe('ENOSPC');
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400);
    expect(attempts.map((at) => at - start)).toEqual([100, 300, 700, 1100]);
    writable = true;
    await vi.advanceTimersByTimeAsync(400);
    expect(trouble.active).toBe(false);
    expect(trouble.recoveries).toBe(1);
    expect(trouble.view()).toBeUndefined();
    trouble.stop();
  });

  it('keeps the episode open when reopening fails for any reason', async () => {
    vi.useFakeTimers();
    let reopenFailures = 2;
    const trouble = new DiskTrouble({
      retryFirstMs: 10,
      retryMaxMs: 10,
      probe: async () => undefined,
      reopen: async () => {
        if (reopenFailures-- > 0) throw new Error('LOCK: held by another process');
      },
      log: pino({ level: 'silent' }),
    });
    trouble.begin(full());
    await vi.advanceTimersByTimeAsync(20);
    expect(trouble.active).toBe(true);
    expect(trouble.view()?.message).toContain('reopening storage failed');
    await vi.advanceTimersByTimeAsync(10);
    expect(trouble.active).toBe(false);
    trouble.stop();
  });
});

describe('openWhenWritable', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a disk that refuses writes at start, and fails at once on anything else', async () => {
    vi.useFakeTimers();
    let attempts = 0;
    const opening = openWhenWritable(
      async () => {
        attempts++;
        if (attempts < 3) throw Object.assign(new Error('IO error: 000005.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
        return 'opened';
      },
      pino({ level: 'silent' }),
    );
    await vi.advanceTimersByTimeAsync(500 + 1000);
    await expect(opening).resolves.toBe('opened');
    expect(attempts).toBe(3);
    await expect(
      openWhenWritable(
        async () => {
          throw new Error('the data directory holds two node ids');
        },
        pino({ level: 'silent' }),
      ),
    ).rejects.toThrow(/two node ids/);
  });
});
