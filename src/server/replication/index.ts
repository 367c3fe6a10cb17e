/**
 * The log's way to the queues: the ready loop that drives the Raft core and its storage, this
 * node's replica of the queues that committed entries are applied to, and the local snapshots that
 * bound the log.
 */
export { UnsupportedCommandError } from './entry-commands.ts';
export { withFailpoints } from './failpoint-hooks.ts';
export { LocalSnapshots, type LocalSnapshotsOptions } from './local-snapshots.ts';
export { type AppliedListener, QueueReplica, type QueueReplicaOptions } from './queue-replica.ts';
export { RaftDriver, type RaftDriverOptions } from './raft-driver.ts';
export { type StateAtEnd, stateAtEnd } from './state-at-end.ts';
export { type CapturedBackup, StateBackups, type StateBackupsOptions } from './state-backup.ts';
