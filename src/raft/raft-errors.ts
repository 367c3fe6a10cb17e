import { ClusterError } from '../shared/index.ts';

export type RaftErrorCode =
  | 'NOT_LEADER'
  | 'TRANSFER_IN_PROGRESS'
  | 'PROPOSAL_TOO_LARGE'
  | 'OVERLOADED'
  | 'LEADER_NOT_READY'
  | 'CHANGE_IN_PROGRESS'
  | 'INVALID_MEMBERSHIP_CHANGE';

const RETRYABLE: ReadonlySet<RaftErrorCode> = new Set(['NOT_LEADER', 'TRANSFER_IN_PROGRESS', 'OVERLOADED', 'LEADER_NOT_READY', 'CHANGE_IN_PROGRESS']);

/** An expected refusal by the core; returned, never thrown. */
export class RaftError extends ClusterError<RaftErrorCode> {
  constructor(code: RaftErrorCode, message: string, leaderHint?: string) {
    super(code, message, { retryable: RETRYABLE.has(code), ...(leaderHint ? { leaderHint } : {}) });
    this.name = 'RaftError';
  }
}
