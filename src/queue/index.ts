export { nackBackoffMs } from './backoff.ts';
export { commandSince, RELEASE_CLUSTER_VERSION, UNVERSIONED_CLUSTER_VERSION } from './cluster-version.ts';
export { commandsOf, type LogRecord, recordOf } from './log-record.ts';
export { idNumber } from './message-peek.ts';
export type { AckedStatus, DeadStatus, MessageStatus } from './message-status.ts';
export { PRODUCER_LIMITS, ProducerSessions } from './producer-sessions.ts';
export type {
  DeliveredMessage,
  MessageSelector,
  NewMessage,
  QueueCommand,
  QueueCommandType,
  QueueResult,
  QueueStats,
  Rejection,
  SettleCommand,
} from './queue-commands.ts';
export {
  DEFAULT_RETENTION_LIMITS,
  defaultQueueConfig,
  NEW_QUEUE_SETTINGS,
  QUEUE_LIMITS,
  QUEUE_NAME_PATTERN,
  type QueueConfig,
  type RetentionLimits,
} from './queue-config.ts';
export { QueueStateMachine } from './queue-state-machine.ts';
export { RETENTION_SWEEP_GRAIN_MS } from './retained-records.ts';
