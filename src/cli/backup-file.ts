// Reading a backup file (src/shared/backup-format.ts) back, checked: `quorumq backup` before it
// declares success, `quorumq restore` before it writes anything.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { BACKUP_HEADER_BYTES_MAX, type BackupHeader, backupDigestPrefix, parseBackupHeader } from '../shared/backup-format.ts';

/** The file is not a whole, undamaged backup: why. */
export class BadBackup extends Error {
  override name = 'BadBackup';
}

/**
 * Reads the backup at `path` in one pass and checks it: its header, its length and its SHA-256.
 * With `keepState` the state comes back too, in one buffer of the length the header gives (a
 * restore needs it whole), allocated only once the file's size matches the header's length (a
 * damaged or forged header cannot make it allocate more than the file holds); without, nothing
 * beyond a read chunk is held.
 */
export async function readBackupFile(path: string, keepState: boolean): Promise<{ header: BackupHeader; state: Uint8Array | undefined }> {
  let head = Buffer.alloc(0);
  let header: BackupHeader | undefined;
  let hash: Hash | undefined;
  let state: Buffer | undefined;
  let received = 0;
  const fileBytes = (await stat(path)).size;
  const take = (chunk: Buffer) => {
    if (header === undefined || hash === undefined) throw new BadBackup('internal: body before header');
    if (received + chunk.length > header.bytes) throw new BadBackup(`the file is longer than its header says (${header.bytes} bytes of state)`);
    hash.update(chunk);
    state?.set(chunk, received);
    received += chunk.length;
  };
  for await (const data of createReadStream(path)) {
    const chunk = data as Buffer;
    if (header !== undefined) {
      take(chunk);
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const newline = head.indexOf(0x0a);
    if (newline === -1) {
      if (head.length > BACKUP_HEADER_BYTES_MAX) throw new BadBackup('no header line: not a quorumq backup');
      continue;
    }
    const parsed = parseBackupHeader(head.subarray(0, newline).toString('utf8'));
    if (typeof parsed === 'string') throw new BadBackup(parsed);
    header = parsed;
    const { sha256: _sha256, ...fields } = parsed;
    hash = createHash('sha256').update(backupDigestPrefix(fields));
    const stateBytes = fileBytes - (newline + 1);
    if (stateBytes < parsed.bytes) throw new BadBackup(`the file is cut short: ${stateBytes} of ${parsed.bytes} bytes of state`);
    if (stateBytes > parsed.bytes) throw new BadBackup(`the file is longer than its header says (${parsed.bytes} bytes of state)`);
    if (keepState) state = Buffer.allocUnsafe(parsed.bytes);
    take(head.subarray(newline + 1));
  }
  if (header === undefined || hash === undefined) throw new BadBackup('the file ends before its header does: not a quorumq backup, or cut short');
  if (received !== header.bytes) throw new BadBackup(`the file is cut short: ${received} of ${header.bytes} bytes of state`);
  if (hash.digest('hex') !== header.sha256) throw new BadBackup('the checksum does not match: the file is damaged');
  return { header, state: state === undefined ? undefined : new Uint8Array(state.buffer, state.byteOffset, state.length) };
}
