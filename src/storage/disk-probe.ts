import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskFaults } from './disk-faults.ts';
import { StorageWriteError } from './storage-errors.ts';

const PROBE_FILE = 'disk-probe';
const PROBE_BYTES = 4096;

/** Free space on the file system that holds `directory`, in bytes available to this process. */
export async function freeBytes(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return stats.bavail * stats.bsize;
}

/**
 * Whether the disk under `directory` takes writes again: at least `reserveBytes` free, and a synced
 * write of a few kilobytes succeeds. Throws a `StorageWriteError` saying why not.
 */
export async function probeDisk(directory: string, reserveBytes: number, faults: DiskFaults | undefined): Promise<void> {
  const path = join(directory, PROBE_FILE);
  try {
    if (faults !== undefined) await faults.check('probing the disk');
    const free = await freeBytes(directory);
    if (free < reserveBytes) throw Object.assign(new Error(`ENOSPC: ${free} bytes free, below the reserve of ${reserveBytes}`), { code: 'ENOSPC' });
    const handle = await open(path, 'w');
    try {
      await handle.write(new Uint8Array(PROBE_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw error instanceof StorageWriteError ? error : new StorageWriteError('probing the disk', error);
  } finally {
    await rm(path, { force: true });
  }
}
