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
  ErrorCode,
  ExtendResult,
  ListQueuesResult,
  MessageInput,
  MessageStatusResult,
  NackResult,
  OperationResults,
  PauseResult,
  PeekedMessage,
  PeekResult,
  PeekState,
  PromoteResult,
  PurgeResult,
  QueueConfigInput,
  QueueStatsResult,
  ReceiveResult,
  RedriveResult,
  RejectionCode,
  ReleaseInfo,
  ResultOf,
  SettleRejection,
  SubscribeResult,
  UnsubscribeResult,
} from '../shared/index.ts';
export { JobTimeoutError, LeaseLostError, QuorumqError } from './client-errors.ts';
export type { ClientTlsOptions, PemInput } from './node-connection.ts';
export {
  type AckOptions,
  type ConnectOptions,
  connect,
  type Delivery,
  NACK_ERROR_LENGTH_MAX,
  type NackOptions,
  QuorumqClient,
  type Settled,
  type Targets,
} from './quorumq-client.ts';
export { type MessageHandler, type SubscribeOptions, Subscription } from './subscription.ts';
export { Worker } from './worker.ts';
export type { Job, Processor, WorkerClient, WorkerEvents, WorkerOptions } from './worker-options.ts';
