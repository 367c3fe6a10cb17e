// `quorumq backup --out FILE`: the whole state of a running cluster, consistent at one committed
// index, written to a file atomically and checked before the command says it is done.
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupHeader } from '../shared/backup-format.ts';
// Straight from its file: the storage index loads LevelDB, which an SDK-only install lacks (`quorumq backup` needs no LevelDB).
import { syncDirectory } from '../storage/sync-directory.ts';
import { BadBackup, readBackupFile } from './backup-file.ts';
import { CommandFailure, type NodeApi } from './node-api.ts';

/**
 * Streams `GET /admin/backup` into a temporary file beside `out`, syncs it, reads it back and checks
 * its length and SHA-256, and only then renames it to `out`: `out` is either a whole, checked
 * backup or untouched, and the rename is synced with its directory. A failed or damaged transfer leaves no file behind.
 */
export async function takeBackup(api: NodeApi, out: string): Promise<{ header: BackupHeader; server: URL }> {
  const temporary = `${out}.partial-${process.pid}`;
  try {
    const { response, server } = await api.download('/admin/backup');
    await pipeline(response, createWriteStream(temporary, { flags: 'wx' }));
    const file = await open(temporary, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    const { header } = await readBackupFile(temporary, false).catch((error: unknown) => {
      throw error instanceof BadBackup ? new CommandFailure('BAD_BACKUP', `the backup received from ${server.host} is not whole: ${error.message}`) : error;
    });
    await rename(temporary, out);
    // The rename is durable only once the directory is: a power loss could otherwise undo it.
    await syncDirectory(dirname(out));
    return { header, server };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
