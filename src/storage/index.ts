export { LevelStorage } from './level-storage.ts';
export { MemoryStorage } from './memory-storage.ts';
export { StorageCorruptionError } from './storage-errors.ts';
export type { RaftStorage } from './storage-port.ts';
