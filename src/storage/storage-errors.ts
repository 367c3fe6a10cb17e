import { ClusterError } from '../shared/index.ts';

/** The data directory does not hold what it must: refuse to serve rather than guess. */
export class StorageCorruptionError extends ClusterError<'STORAGE_CORRUPT'> {
  constructor(message: string) {
    super('STORAGE_CORRUPT', message);
    this.name = 'StorageCorruptionError';
  }
}
