export { DISK_FAULT_CODES, type DiskFaultCode, DiskFaults, isDiskFaultCode } from './disk-faults.ts';
export { freeBytes, probeDisk } from './disk-probe.ts';
export { FAILPOINT_NAMES, FAILPOINTS_ENV, type FailpointName, type FailpointSpec, Failpoints, isFailpointName, parseFailpoints } from './failpoints.ts';
export { LevelStorage } from './level-storage.ts';
export { MemoryStorage } from './memory-storage.ts';
export { type NodeStorageOptions, type OpenedStorage, openNodeStorage } from './node-storage.ts';
export { POWER_CUT_FILE, PowerCut } from './power-cut.ts';
export { isDiskRefusal, StorageCorruptionError, StorageWriteError } from './storage-errors.ts';
export type { RaftStorage } from './storage-port.ts';
