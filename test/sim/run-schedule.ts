import { isMember, quorumSize } from '../../src/raft/index.ts';
import { unreachable } from '../../src/shared/index.ts';
import type { ScheduleParams, SimAction } from './schedule.ts';
import { SimCluster, type SimCounters } from './sim-cluster.ts';

/** A failure at a given step: the schedule after that step is irrelevant to it. */
export class ScheduleFailure extends Error {
  override name = 'ScheduleFailure';
  constructor(
    readonly step: number,
    cause: unknown,
  ) {
    super(`at step ${step}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });
  }
}

export interface ScheduleReport {
  readonly steps: number;
  readonly checks: number;
  readonly livenessRounds: number;
  /** The run ended with too few voters able to vote (one recovering): halting was the safe outcome. */
  readonly haltedByRecovery: boolean;
  readonly counters: SimCounters;
}

/** Deliveries per liveness round: enough to drain any burst a round can produce. */
const DELIVERIES_PER_ROUND_MAX = 20_000;

/**
 * Runs the faulty schedule with every invariant checked after each step, then heals every fault and
 * requires progress: a leader, and a fresh proposal applied by every member, within a bound.
 */
export function runSchedule(params: ScheduleParams, actions: readonly SimAction[]): ScheduleReport {
  const cluster = new SimCluster({
    voters: params.voters,
    spares: params.spares,
    seed: params.seed,
    redeliverPercent: params.redeliverPercent,
    crashMidWritePermille: params.crashMidWritePermille,
    reconfigureOnElection: params.reconfigureOnElection,
    raft: {
      electionTicks: params.electionTicks,
      heartbeatTicks: 1,
      appendEntriesMax: params.appendEntriesMax,
      inflightAppendsMax: params.inflightAppendsMax,
      appendBytesMax: params.appendBytesMax,
      inflightBytesMax: params.appendBytesMax * params.inflightBytesFactor,
      snapshotTimeoutTicks: params.electionTicks * 3,
    },
  });
  actions.forEach((action, step) => {
    try {
      applyAction(cluster, action);
    } catch (error) {
      throw new ScheduleFailure(step, error);
    }
  });
  let livenessRounds = 0;
  try {
    livenessRounds = healAndRequireProgress(cluster, params.electionTicks * 40);
    if (livenessRounds > 0) checkAcknowledgedKept(cluster);
  } catch (error) {
    throw new ScheduleFailure(actions.length, error);
  }
  return { steps: actions.length, checks: cluster.checker.checks, livenessRounds, haltedByRecovery: livenessRounds === 0, counters: cluster.counters };
}

function applyAction(cluster: SimCluster, action: SimAction): void {
  switch (action.kind) {
    case 'deliver':
      return cluster.deliver(action.pick);
    case 'deliverOldest':
      for (let i = 0; i < action.count; i++) cluster.deliver(0);
      return;
    case 'drop':
      return cluster.network.drop(action.pick);
    case 'duplicate':
      return cluster.network.duplicate(action.pick);
    case 'tick':
      return cluster.tick(cluster.idAt(action.node));
    case 'tickAll':
      return cluster.tickAll();
    case 'propose':
      cluster.propose(cluster.idAt(action.node));
      return;
    case 'proposeOnLeader': {
      const leader = cluster.leader();
      if (leader !== undefined) cluster.propose(leader[0]);
      return;
    }
    case 'read':
      return cluster.read(cluster.idAt(action.node));
    case 'crash':
      return cluster.crash(cluster.idAt(action.node), action.outbox);
    case 'crashLeader': {
      const leader = cluster.leader();
      if (leader !== undefined) cluster.crash(leader[0], action.outbox);
      return;
    }
    case 'restart':
      return cluster.restart(cluster.idAt(action.node));
    case 'linkDown':
      return cluster.linkDown(cluster.idAt(action.node));
    case 'isolate':
      return isolate(cluster, cluster.idAt(action.node));
    case 'isolateLeader': {
      const leader = cluster.leader();
      if (leader !== undefined) isolate(cluster, leader[0]);
      return;
    }
    case 'cutOneWay':
      return cluster.network.cut(cluster.idAt(action.from), cluster.idAt(action.to));
    case 'split':
      return split(cluster, action.mask);
    case 'heal':
      return cluster.network.heal();
    case 'membership':
      return cluster.changeMembership(action.change, cluster.idAt(action.node));
    case 'transfer':
      return cluster.transferLeadership(cluster.idAt(action.node));
    case 'compact':
      return cluster.compact(cluster.idAt(action.node));
    case 'damage':
      return cluster.damage(cluster.idAt(action.node), action.pick);
    default:
      unreachable(action, 'sim action');
  }
}

function isolate(cluster: SimCluster, target: string): void {
  for (const other of cluster.ids) {
    if (other === target) continue;
    cluster.network.cut(target, other);
    cluster.network.cut(other, target);
  }
}

/** Cuts the nodes whose bit is set in `mask` off from the others, both ways. */
function split(cluster: SimCluster, mask: number): void {
  const side = (id: string) => (mask >> cluster.ids.indexOf(id)) & 1;
  for (const a of cluster.ids) for (const b of cluster.ids) if (side(a) !== side(b)) cluster.network.cut(a, b);
}

function healAndRequireProgress(cluster: SimCluster, roundsMax: number): number {
  cluster.network.heal();
  cluster.redeliverPercent = 0;
  cluster.crashMidWritePermille = 0;
  cluster.restartAllDown();
  let fresh: { value: number; leader: string } | undefined;
  for (let round = 1; round <= roundsMax; round++) {
    cluster.tickAll();
    drain(cluster);
    const leader = cluster.leader();
    if (leader === undefined) continue;
    if (fresh === undefined || fresh.leader !== leader[0]) {
      const value = cluster.propose(leader[0]);
      if (value !== undefined) fresh = { value, leader: leader[0] };
      drain(cluster);
    }
    if (fresh !== undefined && everyMemberApplied(cluster, leader[0], fresh.value)) return round;
  }
  if (haltedByRecovery(cluster)) return 0;
  const status = cluster.upNodes().map(([, raft]) => raft.status());
  return cluster.checker.fail(
    `Liveness: no fresh proposal applied by every member within ${roundsMax} rounds after healing: ${JSON.stringify(status.map(({ id, role, term, leader, commit, lastIndex, membership }) => ({ id, role, term, leader, commit, lastIndex, membership })))}`,
  );
}

/**
 * No leader, and in some node's newest configuration the voters that can vote (not recovering) are
 * too few to elect one: a configuration that depends on a damaged disk must stop, not guess. With
 * one damaged node at a time this takes a two-voter configuration, or one whose others are gone.
 */
function haltedByRecovery(cluster: SimCluster): boolean {
  if (cluster.leader() !== undefined) return false;
  return cluster.upNodes().some(([, raft]) => {
    const { voters } = raft.status().membership;
    const recovering = voters.filter((id) => cluster.isRecovering(id));
    return recovering.length > 0 && voters.length - recovering.length < quorumSize(voters.length);
  });
}

function drain(cluster: SimCluster): void {
  for (let delivered = 0; cluster.network.size > 0 && delivered < DELIVERIES_PER_ROUND_MAX; delivered++) cluster.deliver(0);
}

function everyMemberApplied(cluster: SimCluster, leaderId: string, value: number): boolean {
  const membership = cluster.raftOf(leaderId)!.status().membership;
  return cluster.ids.filter((id) => isMember(membership, id)).every((id) => cluster.stateOf(id).some((record) => record.value === value));
}

/** Every proposal a leader applied (and so acknowledged) is in the final state of the leader. */
function checkAcknowledgedKept(cluster: SimCluster): void {
  const leader = cluster.leader();
  if (leader === undefined) return cluster.checker.fail('no leader after the liveness phase');
  const finalState = new Map(cluster.stateOf(leader[0]).map((record) => [record.value, record]));
  for (const [value, record] of cluster.acknowledged) {
    const kept = finalState.get(value);
    if (kept === undefined || kept.index !== record.index) {
      cluster.checker.fail(`Durability: acknowledged value ${value} at index ${record.index} is missing from the final state`);
    }
  }
}
