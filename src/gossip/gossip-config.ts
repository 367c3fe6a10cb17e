import { assert, ClusterError } from '../shared/index.ts';

/**
 * Every knob and limit of the membership core. Time is counted in ticks; the caller decides how long
 * a tick is (the defaults assume about 100 ms, which makes them close to memberlist's LAN preset).
 */
export interface GossipConfig {
  readonly id: string;
  readonly address: string;
  /** Ticks between probes; each probes the next member of a shuffled round-robin. */
  readonly probeIntervalTicks: number;
  /** Ticks to wait for a direct ack before asking others to probe indirectly. */
  readonly probeTimeoutTicks: number;
  /** Members asked to probe indirectly after a direct probe times out (SWIM's k). */
  readonly indirectChecks: number;
  /** Shortest suspicion, reached once `suspicionConfirmations` distinct members agree. */
  readonly suspicionMinTicks: number;
  /** Suspicion of a member nobody else has confirmed. */
  readonly suspicionMaxTicks: number;
  /** Distinct confirmations that bring a suspicion down to `suspicionMinTicks`. */
  readonly suspicionConfirmations: number;
  /** A claim is piggybacked about retransmitMultiplier * ceil(log10(N + 1)) times. */
  readonly retransmitMultiplier: number;
  /** Claims per message. */
  readonly piggybackMax: number;
  /** How long a dead or left member is remembered before it is forgotten. */
  readonly deadRetentionTicks: number;
  /**
   * How long a dead member is still probed (memberlist's "gossip to the dead"): a member that was
   * only cut off hears of its death and refutes. 0 leaves reconnection to the periodic sync.
   */
  readonly deadProbeTicks: number;
  /** Ticks between full-state exchanges with one random member (anti-entropy; heals partitions). */
  readonly syncIntervalTicks: number;
  /** Members known at once, this node included; further joiners are refused and counted. */
  readonly membersMax: number;
}

export type GossipLimits = Omit<GossipConfig, 'id' | 'address'>;

export const DEFAULT_GOSSIP_LIMITS = {
  probeIntervalTicks: 10,
  probeTimeoutTicks: 3,
  indirectChecks: 3,
  suspicionMinTicks: 40,
  suspicionMaxTicks: 160,
  suspicionConfirmations: 3,
  retransmitMultiplier: 4,
  piggybackMax: 8,
  deadRetentionTicks: 3000,
  deadProbeTicks: 600,
  syncIntervalTicks: 150,
  membersMax: 512,
} as const satisfies GossipLimits;

/** A sync carries the whole view in one message, so the view must stay small enough to send. */
export const MEMBERS_LIMIT = 4096;

/** Limits that may be zero: no indirect probes, no shrinking of suspicions, no probing the dead. */
const MAY_BE_ZERO: ReadonlySet<string> = new Set(['indirectChecks', 'suspicionConfirmations', 'deadProbeTicks']);

export function gossipConfig(id: string, address: string, overrides: Partial<GossipLimits> = {}): GossipConfig {
  const config: GossipConfig = { id, address, ...DEFAULT_GOSSIP_LIMITS, ...overrides };
  validateGossipConfig(config);
  return config;
}

export function validateGossipConfig(config: GossipConfig): void {
  if (config.id === '') invalid('id must not be empty');
  if (config.address === '') invalid('address must not be empty');
  for (const [name, value] of Object.entries(config)) {
    if (name === 'id' || name === 'address') continue;
    const least = MAY_BE_ZERO.has(name) ? 0 : 1;
    if (!Number.isSafeInteger(value) || (value as number) < least) {
      invalid(`${name} must be an integer of at least ${least}`);
    }
  }
  validateRelations(config);
}

function validateRelations(config: GossipConfig): void {
  // The indirect probe runs in what is left of the interval after the direct timeout.
  if (config.probeTimeoutTicks >= config.probeIntervalTicks) {
    invalid('probeTimeoutTicks must be below probeIntervalTicks');
  }
  if (config.suspicionMinTicks > config.suspicionMaxTicks) {
    invalid('suspicionMinTicks must not exceed suspicionMaxTicks');
  }
  // A suspected member needs at least one probe interval to hear the claim and refute it.
  if (config.suspicionMinTicks < config.probeIntervalTicks) {
    invalid('suspicionMinTicks must be at least probeIntervalTicks');
  }
  // A full-state exchange costs a whole view; probes are the cheap, frequent path.
  if (config.syncIntervalTicks < config.probeIntervalTicks) {
    invalid('syncIntervalTicks must be at least probeIntervalTicks');
  }
  // A member forgotten while a peer may still hold it alive would come back from that peer's sync.
  if (config.deadRetentionTicks < config.suspicionMaxTicks + config.syncIntervalTicks) {
    invalid('deadRetentionTicks must be at least suspicionMaxTicks + syncIntervalTicks');
  }
  // A member is probed only while it is remembered.
  if (config.deadProbeTicks > config.deadRetentionTicks) {
    invalid('deadProbeTicks must not exceed deadRetentionTicks');
  }
  if (config.membersMax < 2 || config.membersMax > MEMBERS_LIMIT) {
    invalid(`membersMax must be between 2 and ${MEMBERS_LIMIT}`);
  }
  if (config.indirectChecks >= config.membersMax) invalid('indirectChecks must be below membersMax');
}

/**
 * The most ticks from a member's crash until every live member that knows it has declared it dead,
 * whatever the loss among the live ones. Each live member probes every other one within two rounds
 * of its shuffled order, so at most 2(N-1)-1 intervals apart; that probe fails one interval later,
 * and the member's own suspicion then runs at most suspicionMaxTicks (hearing of it sooner only
 * helps).
 */
export function failureDetectionTicksMax(config: GossipLimits, memberCount: number): number {
  assert(Number.isSafeInteger(memberCount), 'memberCount must be an integer');
  assert(memberCount >= 2, 'failure detection needs a member besides the failed one');
  return (2 * memberCount - 2) * config.probeIntervalTicks + config.suspicionMaxTicks + 1;
}

function invalid(message: string): never {
  throw new ClusterError('INVALID_CONFIG', `gossip config: ${message}`);
}
