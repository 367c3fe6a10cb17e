import type { Membership, RaftStatus } from '../../src/raft/index.ts';

export interface LeaderStatusOptions {
  /** Each member's match index; `lastIndex` for those not named. */
  readonly matches?: Readonly<Record<string, number>>;
  readonly lastIndex?: number;
  /** Members that say they are recovering. */
  readonly recovering?: readonly string[];
}

/** The status of node `a`, leader in term 2 over `membership`, its log all committed and applied. */
export function leaderStatus(membership: Membership, options: LeaderStatusOptions = {}): RaftStatus {
  const { matches = {}, lastIndex = 100, recovering = [] } = options;
  return {
    id: 'a',
    role: 'leader',
    term: 2,
    vote: 'a',
    leader: 'a',
    commit: lastIndex,
    applied: lastIndex,
    firstIndex: 1,
    lastIndex,
    membership,
    leadTransferee: '',
    recovering: false,
    strayLeaderMessages: 0,
    progress: [...membership.voters, ...membership.learners]
      .filter((id) => id !== 'a')
      .map((id) => ({
        id,
        match: matches[id] ?? lastIndex,
        next: lastIndex + 1,
        state: 'replicate',
        recentActive: true,
        recovering: recovering.includes(id),
      })),
  };
}
