import type { MembershipChange, NodeId, RaftStatus } from '../../raft/index.ts';
import { isMember, isVoter, quorumSize } from '../../raft/index.ts';
import { NODE_LIMITS } from '../../shared/index.ts';

export interface AutopilotConfig {
  /** Voters the cluster grows to; further nodes stay learners, ready to step in. */
  readonly votersMax: number;
  /** Automatic removals never take the voters below this. */
  readonly votersMin: number;
  /** A member dead this long is removed; 0 never removes. */
  readonly deadRemoveAfterMs: number;
  /** A learner must be alive and caught up this long before it votes. */
  readonly stabilizationMs: number;
  /** Entries a learner may trail the leader by and still count as caught up. */
  readonly catchUpLagEntriesMax: number;
  /** A member last heard from longer ago than this counts as unreachable for a promotion. */
  readonly heardWithinMs: number;
}

export const DEFAULT_AUTOPILOT: AutopilotConfig = {
  votersMax: 5,
  votersMin: 3,
  deadRemoveAfterMs: 60_000,
  stabilizationMs: 3_000,
  catchUpLagEntriesMax: 256,
  heardWithinMs: 500,
};

/** What a node's options say about membership (see `NodeOptions`). */
export interface AutopilotOptions {
  readonly votersMax: number;
  readonly deadRemoveAfterMs: number;
  readonly stabilizationMs: number;
  readonly tickMs: number;
  readonly electionTicks: number;
}

/** The autopilot a node runs with its options: the defaults, with what the options say. */
export function autopilotConfig(options: AutopilotOptions): AutopilotConfig {
  return {
    ...DEFAULT_AUTOPILOT,
    votersMax: options.votersMax,
    votersMin: Math.min(DEFAULT_AUTOPILOT.votersMin, options.votersMax),
    deadRemoveAfterMs: options.deadRemoveAfterMs,
    stabilizationMs: options.stabilizationMs,
    // Heartbeats reach a learner many times per election timeout: silence that long is no blip.
    heardWithinMs: options.tickMs * options.electionTicks,
  };
}

export type Liveness = 'alive' | 'suspect' | 'dead' | 'left';

/**
 * A configured member gossip has not heard of for this long is taken as dead (see `addUnknown`):
 * well past the few seconds a restarted cluster's gossip needs to find its live members again.
 */
const UNKNOWN_DEAD_AFTER_MS = 15_000;

export interface MemberHealth {
  readonly id: NodeId;
  /** Where gossip reaches it; absent for a member gossip does not know. */
  readonly address?: string;
  readonly state: Liveness;
  /** Wall-clock ms at which the member entered `state`, by this node's clock. */
  readonly since: number;
  /** How long ago this node last heard from it (any frame); absent if never. */
  readonly heardAgoMs?: number;
}

/**
 * Turns the gossip view (who is alive) into Raft membership changes (who votes), one at a time.
 * Gossip never decides a quorum by itself: changes go through the log, and a removal is only
 * proposed when the voters that remain still form a majority of live nodes (RELIABILITY R7f).
 */
export class Autopilot {
  /** When each learner was first seen alive and caught up without a break, in `readinessTerm`. */
  private readonly readySince = new Map<NodeId, number>();
  /** Learners this leader has seen behind, dead or recovering in `readinessTerm`. */
  private readonly seenBehind = new Set<NodeId>();
  private readinessTerm = -1;
  /** When each voter was first seen recovering without a break. */
  private readonly recoveringSince = new Map<NodeId, number>();
  /** When each member of the configuration was first found missing from the gossip view. */
  private readonly unknownSince = new Map<NodeId, number>();

  constructor(private readonly config: AutopilotConfig) {}

  /** `notJoining`: alive nodes not to add now (their release is too old, or unknown yet); the other changes go on. */
  nextChange(
    now: number,
    self: NodeId,
    status: RaftStatus,
    members: readonly MemberHealth[],
    notJoining: ReadonlySet<NodeId> = new Set(),
  ): MembershipChange | undefined {
    const health = new Map(members.map((member) => [member.id, replacedAtItsAddress(member, members)]));
    this.addUnknown(now, self, status, health);
    this.trackReadiness(now, status, health);
    return (
      this.removal(now, self, status, health) ??
      this.demotion(now, self, status) ??
      this.addition(status, members, notJoining) ??
      this.promotion(now, self, status, health)
    );
  }

  private removal(now: number, self: NodeId, status: RaftStatus, health: Map<NodeId, MemberHealth>): MembershipChange | undefined {
    const { voters, learners } = status.membership;
    const gone = (id: NodeId) => {
      const member = health.get(id);
      if (member === undefined || id === self) return false;
      if (member.state === 'left') return true;
      return this.config.deadRemoveAfterMs > 0 && member.state === 'dead' && now - member.since >= this.config.deadRemoveAfterMs;
    };
    const learner = learners.find(gone);
    if (learner !== undefined) return { type: 'remove', node: learner };
    if (voters.length <= this.config.votersMin) return undefined;
    const isAlive = (id: NodeId) => id === self || health.get(id)?.state === 'alive';
    // A dead voter whose replacement already votes goes at once: while it stays, the cluster
    // carries one more voter than it can lose, and a second failure would cost the quorum.
    const replaced = (id: NodeId) => {
      const remaining = voters.filter((other) => other !== id);
      return this.config.deadRemoveAfterMs > 0 && isGone(health.get(id)) && remaining.every(isAlive) && remaining.length % 2 === 1;
    };
    const voter = voters.find((id) => id !== self && (replaced(id) || gone(id)));
    if (voter === undefined) return undefined;
    const remaining = voters.filter((id) => id !== voter);
    return remaining.filter(isAlive).length >= quorumSize(remaining.length) ? { type: 'remove', node: voter } : undefined;
  }

  /**
   * A voter whose disk lost what it had acknowledged says so in its answers (it is recovering): it
   * cannot vote or count toward a commit until repaired. One that is still recovering after the
   * stabilization time becomes a learner, and is promoted again like any learner once caught up;
   * most are repaired sooner, and a demotion then would only cost two changes and a stabilization.
   */
  private demotion(now: number, self: NodeId, status: RaftStatus): MembershipChange | undefined {
    const recovering = new Set(status.progress.filter((progress) => progress.recovering).map((progress) => progress.id));
    for (const id of [...this.recoveringSince.keys()]) if (!recovering.has(id) || !isVoter(status.membership, id)) this.recoveringSince.delete(id);
    for (const id of status.membership.voters) if (recovering.has(id) && !this.recoveringSince.has(id)) this.recoveringSince.set(id, now);
    const due = (id: NodeId) => id !== self && now - (this.recoveringSince.get(id) ?? Infinity) >= this.config.stabilizationMs;
    const voter = status.membership.voters.find(due);
    return voter === undefined ? undefined : { type: 'demote', node: voter };
  }

  /**
   * A member gossip holds alive joins as a learner, while the configuration has room: a larger
   * one would be refused by every follower (NODE_LIMITS.membersMax), and extra learners add
   * nothing a cluster of that size needs.
   */
  private addition(status: RaftStatus, members: readonly MemberHealth[], notJoining: ReadonlySet<NodeId>): MembershipChange | undefined {
    if (status.membership.voters.length + status.membership.learners.length >= NODE_LIMITS.membersMax) return undefined;
    const joiner = members.find((member) => member.state === 'alive' && !isMember(status.membership, member.id) && !notJoining.has(member.id));
    return joiner === undefined ? undefined : { type: 'addLearner', node: joiner.id };
  }

  /**
   * Promotes in steps that end on an odd voter count: from odd, only when two learners are ready.
   * A learner also steps in for a dead voter at once, so that the dead one can then be removed
   * without the voters ever dropping below `votersMin`.
   */
  private promotion(now: number, self: NodeId, status: RaftStatus, health: Map<NodeId, MemberHealth>): MembershipChange | undefined {
    const voters = status.membership.voters;
    const heard = (id: NodeId) => id === self || (health.get(id)?.heardAgoMs ?? Infinity) <= this.config.heardWithinMs;
    const ready = status.membership.learners.filter((id) => now - (this.readySince.get(id) ?? Infinity) >= this.config.stabilizationMs && heard(id)).sort();
    const candidate = ready[0];
    if (candidate === undefined) return undefined;
    // The voters after the change, counting those heard from just now, must still make a quorum
    // (etcd's strict reconfiguration check): a learner cut off since it was last seen ready would
    // otherwise raise the quorum past the live voters and stop every commit until it is back.
    const after = [...voters, candidate];
    if (after.filter(heard).length < quorumSize(after.length)) return undefined;
    const deadVoters = voters.filter((id) => id !== self && isGone(health.get(id))).length;
    if (deadVoters > 0 && voters.length < this.config.votersMax + deadVoters) return { type: 'addVoter', node: candidate };
    if (voters.length >= this.config.votersMax) return undefined;
    const odd = voters.length % 2 === 1;
    if (odd && (voters.length + 2 > this.config.votersMax || ready.length < 2)) return undefined;
    return { type: 'addVoter', node: candidate };
  }

  /**
   * A member of the configuration that gossip has no word of at all: gossip forgets the dead, and a
   * node that restarted learns only of the live, so a voter whose node was wiped and came back under
   * a new id, followed by a full-cluster restart, was neither dead nor alive to anyone. It stayed a
   * voter for good, and its replacement a learner: three voters of which two live, with no failure
   * to spare. Unknown for UNKNOWN_DEAD_AFTER_MS, it counts as dead from then on.
   */
  private addUnknown(now: number, self: NodeId, status: RaftStatus, health: Map<NodeId, MemberHealth>): void {
    const configured = [...status.membership.voters, ...status.membership.learners].filter((id) => id !== self);
    for (const id of [...this.unknownSince.keys()]) if (health.has(id) || !configured.includes(id)) this.unknownSince.delete(id);
    for (const id of configured) {
      if (health.has(id)) continue;
      const since = this.unknownSince.get(id) ?? now;
      this.unknownSince.set(id, since);
      const deadAt = since + UNKNOWN_DEAD_AFTER_MS;
      health.set(id, now >= deadAt ? { id, state: 'dead', since: deadAt } : { id, state: 'suspect', since });
    }
  }

  /**
   * A learner's readiness clock starts when it was last seen alive or when it caught up, whichever
   * is later. Only the leader knows how far behind a learner is, and it learns that afresh in each
   * term: a learner that this leader has not seen behind is taken to have been caught up as long as
   * gossip has known it alive, so the new leader of a cluster whose leaders change while a wiped
   * voter's replacement waits does not start the wait over each time.
   */
  private trackReadiness(now: number, status: RaftStatus, health: Map<NodeId, MemberHealth>): void {
    if (status.term !== this.readinessTerm) {
      this.readinessTerm = status.term;
      this.readySince.clear();
      this.seenBehind.clear();
    }
    const progressOf = new Map(status.progress.map((progress) => [progress.id, progress]));
    for (const id of [...this.readySince.keys()]) if (!status.membership.learners.includes(id)) this.readySince.delete(id);
    for (const id of status.membership.learners) {
      const progress = progressOf.get(id);
      const member = health.get(id);
      // A new leader has not heard from the learner yet: neither ready nor behind.
      if (progress === undefined || (progress.state === 'probe' && progress.match === 0)) continue;
      // A recovering learner is not ready whatever its match: it refuses to vote until repaired.
      const caughtUp = !progress.recovering && progress.match >= status.lastIndex - this.config.catchUpLagEntriesMax;
      if (caughtUp && member?.state === 'alive') {
        if (!this.readySince.has(id)) this.readySince.set(id, this.seenBehind.has(id) ? now : Math.min(now, member.since));
      } else {
        this.readySince.delete(id);
        this.seenBehind.add(id);
      }
    }
  }
}

/**
 * A member not alive whose address now answers, alive, under another id: the node there came back
 * with its data lost, under a new identity, so the old one will never answer again. It counts as
 * dead at once rather than when gossip's suspicion runs out, so that its replacement can step in
 * (a wiped voter left the cluster without a failure to spare for up to 9 s in chaos runs).
 */
function replacedAtItsAddress(member: MemberHealth, members: readonly MemberHealth[]): MemberHealth {
  if (member.state !== 'suspect' || member.address === undefined) return member;
  const successor = members.some((other) => other.id !== member.id && other.address === member.address && other.state === 'alive');
  return successor ? { ...member, state: 'dead' } : member;
}

function isGone(member: MemberHealth | undefined): boolean {
  return member?.state === 'dead' || member?.state === 'left';
}
