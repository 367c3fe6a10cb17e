export { bootstrapState, EMPTY_STATE } from './bootstrap.ts';
export { moreUpToDate, reaches, samePosition } from './log-position.ts';
export {
  applyMembershipChange,
  EMPTY_MEMBERSHIP,
  isMember,
  isVoter,
  type MembershipChange,
  members,
  quorumSize,
} from './membership.ts';
export { isSendableBeforePersist } from './message-durability.ts';
export { isMessage, isSnapshotAnnouncement, MESSAGE_SHAPE_LIMITS } from './message-shape.ts';
export { committedIndex, hasQuorum, type VoteOutcome, voteOutcome } from './quorum.ts';
export { type ProposeResult, Raft, type RaftStatus } from './raft.ts';
export { DEFAULT_RAFT_LIMITS, type RaftConfig, raftConfig, validateRaftConfig } from './raft-config.ts';
export { RaftError, type RaftErrorCode } from './raft-errors.ts';
export * from './types.ts';
