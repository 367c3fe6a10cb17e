export { QueueStateMachine, type MessageStatus } from './queue-state-machine.ts';
export { defaultQueueConfig, QUEUE_LIMITS, QUEUE_NAME_PATTERN, type QueueConfig } from './queue-config.ts';
export type {
  DeliveredMessage,
  MessageSelector,
  NewMessage,
  QueueCommand,
  QueueCommandType,
  QueueResult,
  QueueStats,
  Rejection,
} from './queue-commands.ts';
