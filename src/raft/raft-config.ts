import { ClusterError } from '../shared/index.ts';
import type { NodeId } from './types.ts';

/**
 * Every knob and limit of the core. Time is counted in ticks; the caller decides how long a tick is.
 * PreVote and CheckQuorum are always on: without them a partitioned or removed node disrupts the
 * cluster (RELIABILITY R10), and we never want that trade.
 */
export interface RaftConfig {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized up to twice this). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly appendEntriesMax: number;
  readonly appendBytesMax: number;
  /** Appends sent to one follower and not yet acknowledged, in count. */
  readonly inflightAppendsMax: number;
  /** The same in bytes of entries: what a slow follower may cost the leader in buffers. */
  readonly inflightBytesMax: number;
  /** Bytes of entries in the leader's log that are not yet committed; proposals beyond are refused. */
  readonly uncommittedBytesMax: number;
  /** One proposal's size. */
  readonly proposalBytesMax: number;
  /** ReadIndex requests waiting for their quorum round. */
  readonly pendingReadsMax: number;
  /** Ticks after which a snapshot sent to a follower without an answer is considered lost. */
  readonly snapshotTimeoutTicks: number;
}

export const DEFAULT_RAFT_LIMITS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  appendEntriesMax: 512,
  appendBytesMax: 1 << 20,
  inflightAppendsMax: 256,
  inflightBytesMax: 8 << 20,
  uncommittedBytesMax: 64 << 20,
  proposalBytesMax: 4 << 20,
  pendingReadsMax: 4096,
  snapshotTimeoutTicks: 50,
} as const satisfies Omit<RaftConfig, 'id'>;

export function raftConfig(id: NodeId, overrides: Partial<Omit<RaftConfig, 'id'>> = {}): RaftConfig {
  const config: RaftConfig = { id, ...DEFAULT_RAFT_LIMITS, ...overrides };
  validateRaftConfig(config);
  return config;
}

export function validateRaftConfig(config: RaftConfig): void {
  if (config.id === '') invalid('id must not be empty');
  for (const [name, value] of Object.entries(config)) {
    if (name === 'id') continue;
    if (!Number.isInteger(value) || (value as number) < 1) invalid(`${name} must be a positive integer`);
  }
  // A follower must hear several heartbeats per election timeout, or a healthy leader loses its lease.
  if (config.electionTicks <= config.heartbeatTicks) invalid('electionTicks must exceed heartbeatTicks');
  if (config.proposalBytesMax > config.uncommittedBytesMax) {
    invalid('proposalBytesMax must not exceed uncommittedBytesMax');
  }
  if (config.inflightBytesMax < config.appendBytesMax) invalid('inflightBytesMax must hold at least one full append');
  if (config.snapshotTimeoutTicks < config.electionTicks) {
    invalid('snapshotTimeoutTicks must be at least electionTicks');
  }
}

function invalid(message: string): never {
  throw new ClusterError('INVALID_CONFIG', `raft config: ${message}`);
}
