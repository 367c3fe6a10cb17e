export { connect, QuorumqClient, type ConnectOptions, type Delivery, type Settled, type Targets } from './quorumq-client.ts';
export { QuorumqError } from './client-errors.ts';
export type { MessageInput, QueueConfigInput, ErrorCode } from '../shared/index.ts';
