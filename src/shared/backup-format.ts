/**
 * A backup file (`GET /admin/backup`, `quorumq backup`, `quorumq restore`): one line of JSON, the
 * header, then `bytes` bytes of the queues' encoded state at `index` (as a Raft snapshot holds it).
 * `sha256` covers the header's other fields and the state (see `backupDigestPrefix`): a flipped bit in
 * either, or a file cut short, fails the check, and a damaged file is never restored.
 */
export const BACKUP_FORMAT = 'quorumq-backup';
/** Bumped on any change a reader of the old format would misread. */
export const BACKUP_VERSION = 1;
/** A header is a few hundred bytes; a first line longer than this is no header. */
export const BACKUP_HEADER_BYTES_MAX = 4096;

export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: number;
  /** The committed index the state is at (at least the commit index when the backup was asked for). */
  readonly index: number;
  /** The term of the entry at `index`. */
  readonly term: number;
  /** When the state was taken, ISO 8601. */
  readonly createdAt: string;
  /** Length of the state that follows the header line. */
  readonly bytes: number;
  /** SHA-256, hex, of the header's other fields and the state (see `backupDigestPrefix`). */
  readonly sha256: string;
}

export type BackupFields = Omit<BackupHeader, 'sha256'>;

/**
 * What the SHA-256 of a backup is taken over before the state: the header's fields, in a fixed
 * order, a line each (hashing is the caller's, with node:crypto: this module stays pure).
 */
export function backupDigestPrefix(fields: BackupFields): string {
  return `${fields.format}\n${fields.version}\n${fields.index}\n${fields.term}\n${fields.createdAt}\n${fields.bytes}\n`;
}

export function backupHeaderLine(header: BackupHeader): Uint8Array {
  return Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
}

/** The header of a backup's first line (without its newline), or why it is none. */
export function parseBackupHeader(line: string): BackupHeader | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'the first line is not JSON: not a quorumq backup, or damaged';
  }
  const header = value as Partial<BackupHeader> | null;
  if (typeof header !== 'object' || header === null || header.format !== BACKUP_FORMAT) return 'not a quorumq backup';
  if (header.version !== BACKUP_VERSION) return `backup format version ${String(header.version)}; this quorumq reads version ${BACKUP_VERSION}`;
  const counts = [header.index, header.term, header.bytes];
  if (!counts.every((count) => Number.isSafeInteger(count) && (count as number) >= 0)) return 'the header is damaged (index, term or bytes)';
  if (typeof header.createdAt !== 'string' || typeof header.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(header.sha256)) {
    return 'the header is damaged (createdAt or sha256)';
  }
  return header as BackupHeader;
}
