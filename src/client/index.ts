export {
  connect,
  QuorumqClient,
  NACK_ERROR_LENGTH_MAX,
  type AckOptions,
  type ConnectOptions,
  type Delivery,
  type NackOptions,
  type Settled,
  type Targets,
} from './quorumq-client.ts';
export { LeaseLostError, QuorumqError } from './client-errors.ts';
export type { ClientTlsOptions, PemInput } from './node-connection.ts';
export { Subscription, type MessageHandler, type SubscribeOptions } from './subscription.ts';
export { Worker } from './worker.ts';
export type { Job, Processor, WorkerClient, WorkerEvents, WorkerOptions } from './worker-options.ts';
export type { MessageInput, QueueConfigInput, ErrorCode } from '../shared/index.ts';
/** What each operation answers, as the protocol declares it (src/shared/client-protocol.ts). */
export type {
  AckResult,
  AttemptRecord,
  AuthResult,
  ClientOperation,
  ClusterResult,
  ConfigureResult,
  DeadLetterOrigin,
  DeleteResult,
  EffectiveQueueConfig,
  EnqueueBatchResult,
  EnqueueResult,
  ExtendResult,
  ListQueuesResult,
  MessageStatusResult,
  NackResult,
  OperationResults,
  PurgeResult,
  QueueStatsResult,
  ReceiveResult,
  RejectionCode,
  ResultOf,
  SettleRejection,
  SubscribeResult,
  UnsubscribeResult,
} from '../shared/index.ts';
