export { LevelStorage } from './level-storage.ts';
export { MemoryStorage } from './memory-storage.ts';
export { isDiskRefusal, StorageCorruptionError, StorageWriteError } from './storage-errors.ts';
export { DISK_FAULT_CODES, DiskFaults, isDiskFaultCode, type DiskFaultCode } from './disk-faults.ts';
export { freeBytes, probeDisk } from './disk-probe.ts';
export type { RaftStorage } from './storage-port.ts';
export { FAILPOINT_NAMES, FAILPOINTS_ENV, Failpoints, isFailpointName, parseFailpoints, type FailpointName, type FailpointSpec } from './failpoints.ts';
export { openNodeStorage, type OpenedStorage, type NodeStorageOptions } from './node-storage.ts';
export { PowerCut, POWER_CUT_FILE } from './power-cut.ts';
