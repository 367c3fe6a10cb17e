import type { Logger } from 'pino';
import type { NodeId, Raft, RaftStatus } from '../../raft/index.ts';
import type { MembershipService } from './membership-service.ts';
import { RecoveryNudge } from './recovery-nudge.ts';

export interface LeaderDutiesOptions {
  readonly id: NodeId;
  readonly submit: (input: (raft: Raft) => void) => void;
  readonly membership: MembershipService;
  readonly log: Logger;
  /** How long a caught-up follower may stay recovering before the leader hands over (see `RecoveryNudge`). */
  readonly stabilizationMs: number;
  readonly catchUpLagEntriesMax: number;
  /** Why a node may not be added now (its release is too old for the cluster's version), or undefined. */
  readonly joinRefusal: (node: NodeId) => string | undefined;
}

/**
 * What a leader does, each autopilot round, about who takes part: first end a repair that only a
 * new term can end (`RecoveryNudge`), else turn the gossip view into at most one membership change
 * at a time.
 */
export class LeaderDuties {
  private changeInFlight = false;
  /** The last joiner refused for its release: said once, not every round. */
  private refusedJoiner: NodeId | undefined;
  private readonly nudge: RecoveryNudge;

  constructor(private readonly options: LeaderDutiesOptions) {
    this.nudge = new RecoveryNudge(options.stabilizationMs, options.catchUpLagEntriesMax);
  }

  /** Forgets a change handed to a driver that stopped before running it (it would never clear). */
  reset(): void {
    this.changeInFlight = false;
  }

  run(now: number, status: RaftStatus): void {
    if (status.role !== 'leader' || this.changeInFlight) return;
    const { submit, log } = this.options;
    const target = this.nudge.transferTarget(now, this.options.id, status);
    if (target !== undefined) {
      log.info({ to: target }, 'a follower caught up but still recovering needs a new term: handing over leadership');
      submit((raft) => {
        raft.transferLeadership(target);
      });
      return;
    }
    const change = this.options.membership.nextChange(now, status);
    if (change === undefined) return;
    const refusal = change.type === 'addLearner' ? this.options.joinRefusal(change.node) : undefined;
    if (refusal !== undefined) {
      if (this.refusedJoiner !== change.node) log.warn({ node: change.node }, `not adding ${change.node} to the cluster: ${refusal}`);
      this.refusedJoiner = change.node;
      return;
    }
    this.changeInFlight = true;
    submit((raft) => {
      const proposed = raft.proposeMembershipChange(change);
      this.changeInFlight = false;
      if (proposed.ok) log.info({ change: change.type, node: change.node, index: proposed.index }, 'proposed a membership change');
      else log.debug({ change: change.type, node: change.node, reason: proposed.error.code }, 'membership change not proposed');
    });
  }
}
