export { Raft, type ProposeResult, type RaftStatus } from './raft.ts';
export { raftConfig, validateRaftConfig, DEFAULT_RAFT_LIMITS, type RaftConfig } from './raft-config.ts';
export { RaftError, type RaftErrorCode } from './raft-errors.ts';
export { bootstrapState, EMPTY_STATE } from './bootstrap.ts';
export {
  applyMembershipChange,
  isVoter,
  isMember,
  members,
  quorumSize,
  EMPTY_MEMBERSHIP,
  type MembershipChange,
} from './membership.ts';
export { committedIndex, voteOutcome, hasQuorum, type VoteOutcome } from './quorum.ts';
export * from './types.ts';
export { isMessage, isSnapshotAnnouncement, MESSAGE_SHAPE_LIMITS } from './message-shape.ts';
export { isSendableBeforePersist } from './message-durability.ts';
export { moreUpToDate, reaches, samePosition } from './log-position.ts';
