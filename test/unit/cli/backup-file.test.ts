import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadBackup, readBackupFile } from '../../../src/cli/backup-file.ts';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupFields, backupDigestPrefix, backupHeaderLine } from '../../../src/shared/backup-format.ts';

// Goal: a backup file is read back only when whole and undamaged: its header, its length and its
// checksum, which covers the header's fields as well as the state.
const directory = mkdtempSync(join(tmpdir(), 'quorumq-backup-file-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function backupBytes(state: Uint8Array, fields: Partial<BackupFields> = {}): Buffer {
  const all: BackupFields = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    index: 42,
    term: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    bytes: state.length,
    ...fields,
  };
  const sha256 = createHash('sha256').update(backupDigestPrefix(all)).update(state).digest('hex');
  return Buffer.concat([backupHeaderLine({ ...all, sha256 }), state]);
}

let files = 0;
function fileWith(bytes: Uint8Array): string {
  const path = join(directory, `backup-${files++}`);
  writeFileSync(path, bytes);
  return path;
}

describe('readBackupFile', () => {
  const state = Uint8Array.from({ length: 300_000 }, (_, n) => n % 251);

  it('reads a whole backup back, with its state when asked for', async () => {
    const path = fileWith(backupBytes(state));
    const { header, state: read } = await readBackupFile(path, true);
    expect(header).toMatchObject({ index: 42, term: 3, bytes: state.length });
    expect(Buffer.from(read!)).toEqual(Buffer.from(state));
    expect((await readBackupFile(path, false)).state).toBeUndefined();
  });

  it('refuses a flipped bit in the state or in the header, a cut-short file, a longer one, and another format', async () => {
    const whole = backupBytes(state);
    const flipped = Buffer.from(whole);
    flipped[whole.length - 1000]! ^= 0x10;
    await expect(readBackupFile(fileWith(flipped), false)).rejects.toThrow(/checksum does not match/);
    const otherIndex = Buffer.from(whole.toString('latin1').replace('"index":42', '"index":43'), 'latin1');
    await expect(readBackupFile(fileWith(otherIndex), false)).rejects.toThrow(/checksum does not match/);
    await expect(readBackupFile(fileWith(whole.subarray(0, whole.length - 1)), false)).rejects.toThrow(/cut short/);
    await expect(readBackupFile(fileWith(Buffer.concat([whole, Buffer.of(0)])), false)).rejects.toThrow(/longer than its header/);
    await expect(readBackupFile(fileWith(Buffer.from('{"format":"something else"}\n')), false)).rejects.toThrow(BadBackup);
    await expect(readBackupFile(fileWith(Buffer.alloc(10_000, 0x61)), false)).rejects.toThrow(/no header line/);
    // A header that claims more state than the file holds is refused before anything is allocated for it.
    const huge = fileWith(backupBytes(state, { bytes: 2 ** 40 }));
    await expect(readBackupFile(huge, true)).rejects.toThrow(BadBackup);
    await expect(readBackupFile(huge, true)).rejects.toThrow(/cut short/);
  });
});
