import { describe, expect, it } from 'vitest';
import type { RaftStatus } from '../../../../src/raft/index.ts';
import { RecoveryNudge } from '../../../../src/server/membership/recovery-nudge.ts';

function status(progress: { id: string; match: number; recovering: boolean }[], role: RaftStatus['role'] = 'leader'): RaftStatus {
  return {
    id: 'a',
    role,
    term: 2,
    vote: 'a',
    leader: 'a',
    commit: 1000,
    applied: 1000,
    firstIndex: 1,
    lastIndex: 1000,
    membership: { voters: ['a', 'b', 'c'], learners: ['r'] },
    leadTransferee: '',
    recovering: false,
    strayLeaderMessages: 0,
    progress: progress.map((p) => ({ ...p, next: p.match + 1, state: 'replicate', recentActive: true })),
  } as RaftStatus;
}

describe('RecoveryNudge', () => {
  const caughtUp = [
    { id: 'b', match: 990, recovering: false },
    { id: 'c', match: 1000, recovering: false },
    { id: 'r', match: 1000, recovering: true },
  ];

  it('hands leadership to the most caught-up sound voter once a caught-up follower stays recovering, once', () => {
    const nudge = new RecoveryNudge(3000, 256);
    expect(nudge.transferTarget(0, 'a', status(caughtUp))).toBeUndefined();
    expect(nudge.transferTarget(2999, 'a', status(caughtUp))).toBeUndefined();
    expect(nudge.transferTarget(3000, 'a', status(caughtUp))).toBe('c');
    expect(nudge.transferTarget(9000, 'a', status(caughtUp))).toBeUndefined();
  });

  it('waits while the follower is still catching up, and does nothing on a follower or without a target', () => {
    const nudge = new RecoveryNudge(3000, 256);
    const behind = [
      { id: 'b', match: 1000, recovering: false },
      { id: 'r', match: 100, recovering: true },
    ];
    expect(nudge.transferTarget(0, 'a', status(behind))).toBeUndefined();
    expect(nudge.transferTarget(10_000, 'a', status(behind))).toBeUndefined();
    expect(new RecoveryNudge(0, 256).transferTarget(0, 'a', status(caughtUp, 'follower'))).toBeUndefined();
    const alone = [{ id: 'r', match: 1000, recovering: true }];
    expect(new RecoveryNudge(0, 256).transferTarget(0, 'a', status(alone))).toBeUndefined();
  });
});
