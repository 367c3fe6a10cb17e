import type { ServerResponse } from 'node:http';
import { backupHeaderLine } from '../../shared/backup-format.ts';
import type { BackupStream } from './api-parts.ts';

/** `GET /admin/backup` (docs/http-api.md): where the route is served. */
export const BACKUP_PATH = '/admin/backup';

/** How long a backup's answer may go without the client taking any of it, and how long it may take in all. */
export interface BackupSendLimits {
  readonly idleMs: number;
  readonly deadlineMs: number;
}

/**
 * A client that reads nothing for this long is gone or stalled; one that takes more than the
 * deadline holds the node's one backup slot and a copy of its state too long (an hour moves many
 * gigabytes at any speed a backup host should have).
 */
export const BACKUP_SEND_LIMITS: BackupSendLimits = { idleMs: 30_000, deadlineMs: 60 * 60_000 };

const EMPTY = new Uint8Array(0);

/**
 * Writes a backup as the answer: its header line, then the state part by part, each let go once
 * written, waiting for the socket to drain whenever its buffer is full, so that a slow client holds
 * no more than the one copy the backup was taken as. A client that goes away ends the write; one
 * that takes nothing for `idleMs`, or is not done by `deadlineMs`, has its answer destroyed, so
 * that the node's one backup slot and the encoded state are let go (the client sees the answer cut
 * short of its length, and `quorumq backup` keeps no file).
 */
export async function sendBackup(response: ServerResponse, backup: BackupStream, limits: BackupSendLimits = BACKUP_SEND_LIMITS): Promise<void> {
  const deadline = setTimeout(() => response.destroy(), limits.deadlineMs);
  deadline.unref();
  try {
    const head = backupHeaderLine(backup.header);
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(head.length + backup.header.bytes),
      'content-disposition': `attachment; filename="quorumq-backup-${backup.header.index}.qqb"`,
      'x-quorumq-backup-index': String(backup.header.index),
    });
    if (!(await written(response, head, limits.idleMs))) return;
    const { parts } = backup;
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index]!;
      parts[index] = EMPTY;
      if (!(await written(response, part, limits.idleMs))) return;
    }
    response.end();
  } finally {
    clearTimeout(deadline);
    // Written or not, the rest of the state is not needed any more.
    backup.parts.fill(EMPTY);
  }
}

/** False once the client is gone, or has taken nothing for `idleMs` (the answer is then destroyed): the rest is not written. */
function written(response: ServerResponse, bytes: Uint8Array, idleMs: number): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  if (response.write(bytes)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      clearTimeout(idle);
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const idle = setTimeout(() => {
      response.destroy();
      done(false);
    }, idleMs);
    idle.unref();
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
