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
