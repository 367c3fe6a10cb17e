import type { ServerResponse } from 'node:http';
import { backupHeaderLine } from '../../shared/backup-format.ts';
import type { BackupStream } from './api-parts.ts';

/** `GET /admin/backup` (docs/http-api.md): where the route is served. */
export const BACKUP_PATH = '/admin/backup';

const EMPTY = new Uint8Array(0);

/**
 * Writes a backup as the answer: its header line, then the state part by part, each let go once
 * written, waiting for the socket to drain whenever its buffer is full, so that a slow client holds
 * no more than the one copy the backup was taken as. A client that goes away ends the write.
 */
export async function sendBackup(response: ServerResponse, backup: BackupStream): Promise<void> {
  const head = backupHeaderLine(backup.header);
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(head.length + backup.header.bytes),
    'content-disposition': `attachment; filename="quorumq-backup-${backup.header.index}.qqb"`,
    'x-quorumq-backup-index': String(backup.header.index),
  });
  if (!(await written(response, head))) return;
  const { parts } = backup;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index]!;
    parts[index] = EMPTY;
    if (!(await written(response, part))) return;
  }
  response.end();
}

/** False once the client is gone: the rest is not written. */
function written(response: ServerResponse, bytes: Uint8Array): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  if (response.write(bytes)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
