import type { NodeId } from '../../raft/index.ts';
import { RequestError } from '../../shared/index.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

export interface LeaderWaitOptions {
  /** The leader this node knows of, '' for none. */
  readonly leader: () => NodeId;
  /** Whether a request can reach `leader` now: this node itself, or one it has a link to. */
  readonly reachable: (leader: NodeId) => boolean;
  /** This node hears no other (see `PeerActivity`): waiting for an election would be in vain. */
  readonly cutOff: () => boolean;
  /** How long a request waits for an election to name a leader before NO_LEADER. */
  readonly waitMs: number;
}

/**
 * Where a request goes: the leader, once one is known and reachable. A request that arrives during
 * an election waits for it (up to `waitMs`) instead of failing, except on a node cut off from the
 * rest, which answers NO_LEADER at once so that its caller goes elsewhere.
 */
export class LeaderWait {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: LeaderWaitOptions) {}

  async leader(): Promise<NodeId> {
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const leader = this.options.leader();
      if (leader !== '' && this.options.reachable(leader)) return leader;
      const remaining = deadline - Date.now();
      if (this.options.cutOff())
        throw new RequestError('NO_LEADER', 'this node hears no other node: it is cut off from the cluster; try another node', RETRY_AFTER_MS.noLeader);
      if (remaining <= 0) throw new RequestError('NO_LEADER', 'no leader is known right now; retry shortly', RETRY_AFTER_MS.noLeader);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(remaining, 50));
        this.waiters.add(done);
      });
    }
  }

  /** The known leader changed: waiting requests look again at once. */
  onLeaderChange(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
