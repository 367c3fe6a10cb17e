import { ClusterError } from '../shared/index.ts';

/** The data directory does not hold what it must: refuse to serve rather than guess. */
export class StorageCorruptionError extends ClusterError<'STORAGE_CORRUPT'> {
  constructor(message: string) {
    super('STORAGE_CORRUPT', message);
    this.name = 'StorageCorruptionError';
  }
}

/**
 * A write the node depends on did not reach the disk (full, failing, read-only). Nothing about the
 * data is known to be wrong, but nothing may be acknowledged on the strength of it: the node stops
 * taking part until its disk takes writes again, and then starts over from what is on it.
 */
export class StorageWriteError extends ClusterError<'STORAGE_UNWRITABLE'> {
  /** The system's error code when there is one (ENOSPC, EIO, EROFS...), else LevelDB's. */
  readonly reason: string;
  /** LevelDB found its own files damaged: waiting will not help, the store must be rebuilt. */
  readonly corruption: boolean;

  constructor(operation: string, cause: unknown) {
    super('STORAGE_UNWRITABLE', `${operation} failed: ${describeError(cause)}`, { cause });
    this.name = 'StorageWriteError';
    this.reason = causeCode(cause);
    this.corruption = cause instanceof StorageWriteError ? cause.corruption : this.reason === 'LEVEL_CORRUPTION' || /\bcorrupt/i.test(describeError(cause));
  }
}

/** An error's message, with its cause's when that adds something (LevelDB's errors carry one). */
export function describeError(cause: unknown): string {
  const inner = (cause as { cause?: unknown } | undefined)?.cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return inner instanceof Error && !message.includes(inner.message) ? `${message}: ${inner.message}` : message;
}

function causeCode(cause: unknown): string {
  const described = describeError(cause);
  const errno = /\b(E[A-Z]{2,})\b/.exec(described)?.[1] ?? (/no space left/i.test(described) ? 'ENOSPC' : undefined);
  if (errno !== undefined) return errno;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** The errors a disk gives when it cannot take writes now but may later (full, failing, read-only, over quota). */
const DISK_ERROR_CODES = new Set(['ENOSPC', 'EIO', 'EROFS', 'EDQUOT']);

/** Whether `error` is the disk refusing a write (see `DISK_ERROR_CODES`), rather than bad data or a bug. */
export function isDiskRefusal(error: unknown): boolean {
  return error instanceof StorageWriteError || DISK_ERROR_CODES.has(causeCode(error));
}
