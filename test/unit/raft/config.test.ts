import { describe, expect, it } from 'vitest';
import { bootstrapState, DEFAULT_RAFT_LIMITS, Raft, type RaftConfig, raftConfig } from '../../../src/raft/index.ts';
import { Prng } from '../../../src/shared/index.ts';
import { configError } from '../../support/config-error.ts';

describe('raftConfig', () => {
  it('fills every limit from the defaults and keeps overrides', () => {
    expect(raftConfig('n1', { electionTicks: 20 })).toEqual({ ...DEFAULT_RAFT_LIMITS, id: 'n1', electionTicks: 20 });
  });

  it.each<[string, string, Partial<Omit<RaftConfig, 'id'>>]>([
    ['electionTicks equal to heartbeatTicks', 'electionTicks must exceed heartbeatTicks', { electionTicks: 3, heartbeatTicks: 3 }],
    ['electionTicks below heartbeatTicks', 'electionTicks must exceed heartbeatTicks', { electionTicks: 2, heartbeatTicks: 3 }],
    ['a zero limit', 'inflightAppendsMax must be a positive integer', { inflightAppendsMax: 0 }],
    ['a negative limit', 'appendEntriesMax must be a positive integer', { appendEntriesMax: -1 }],
    ['a fractional limit', 'heartbeatTicks must be a positive integer', { heartbeatTicks: 1.5 }],
    ['a NaN limit', 'pendingReadsMax must be a positive integer', { pendingReadsMax: Number.NaN }],
    [
      'proposals larger than the uncommitted budget',
      'proposalBytesMax must not exceed uncommittedBytesMax',
      { proposalBytesMax: 2048, uncommittedBytesMax: 1024 },
    ],
    ['a snapshot timeout shorter than an election', 'snapshotTimeoutTicks must be at least electionTicks', { electionTicks: 10, snapshotTimeoutTicks: 9 }],
  ])('rejects %s with INVALID_CONFIG', (_, message, overrides) => {
    const error = configError(() => raftConfig('n1', overrides));
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', retryable: false });
    expect(error?.message).toContain(message);
  });

  it('rejects an empty node id', () => {
    expect(configError(() => raftConfig(''))).toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('accepts every limit at its boundary', () => {
    const edge = { electionTicks: 2, heartbeatTicks: 1, snapshotTimeoutTicks: 2, proposalBytesMax: 64, uncommittedBytesMax: 64, inflightAppendsMax: 1 };
    expect(configError(() => raftConfig('n1', edge))).toBeUndefined();
  });

  it('the core validates a hand-built config too, not only raftConfig()', () => {
    const config: RaftConfig = { ...DEFAULT_RAFT_LIMITS, id: 'n1', electionTicks: 1 };
    const error = configError(() => new Raft(config, bootstrapState({ voters: ['n1'], learners: [] }), new Prng(1)));
    expect(error).toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
