import { assert, type Prng, unreachable } from '../shared/index.ts';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
import { type GossipConfig, validateGossipConfig } from './gossip-config.ts';
import { admitsUnknown, confirmsSuspicion, isWellFormed, supersedes } from './member-precedence.ts';
import { ProbeOrder } from './probe-order.ts';
import { sample } from './sampling.ts';
import { Suspicion } from './suspicion.ts';
import type {
  AckMessage,
  GossipCounters,
  GossipMessage,
  Member,
  MemberState,
  MembershipEvent,
  MembershipEventType,
  MemberUpdate,
  PingMessage,
  PingReqMessage,
} from './types.ts';

/** Indirect probes relayed for others at once: a flood of pingReqs cannot grow this node's state. */
const RELAYS_MAX = 256;
/** Output kept for a caller that does not drain; one tick produces a handful. */
const MESSAGES_PENDING_MAX = 4096;
const EVENTS_PENDING_MAX = 4096;

interface MemberRecord {
  readonly id: string;
  address: string;
  incarnation: number;
  state: MemberState;
  since: number;
  /** Who made the claim we hold (see `MemberUpdate.by`). */
  by: string;
}

interface Probe {
  readonly target: string;
  readonly sequence: number;
  /** The target's incarnation when probed: a failure suspects that one, not a later refutation. */
  readonly incarnation: number;
  acked: boolean;
}

/** A ping sent on behalf of `requester`, whose ack goes back under the requester's own number. */
interface Relay {
  readonly requester: string;
  readonly requesterProbe: number;
  readonly expiresAt: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message before the sender and the piggybacked claims are filled in. */
type Outgoing = DistributiveOmit<GossipMessage, 'from' | 'updates'>;

/**
 * SWIM membership (with memberlist's and Lifeguard's refinements) as a pure, synchronous core:
 * inputs are `tick()`, `step(message)`, `addPeer()` and `leave()`; outputs are collected by
 * `drain()`. No clock, socket or global randomness: the same seed and inputs give the same run.
 */
export class Gossip {
  readonly id: string;
  private readonly config: GossipConfig;
  private readonly prng: Prng;
  private readonly records = new Map<string, MemberRecord>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly broadcasts: BroadcastQueue;
  private readonly probeOrder = new ProbeOrder();
  private readonly relays = new Map<number, Relay>();
  /**
   * Per peer, members about whom it told us something older than what we hold. Epidemic spread
   * stops after a few retransmissions, and a peer that missed every copy would keep acting on the
   * old claim (suspect a live member, bury one that left); so our next message to it carries ours.
   */
  private readonly owed = new Map<string, Set<string>>();
  private probe: Probe | undefined;
  private ticks = 0;
  private probeElapsed: number;
  private syncElapsed: number;
  /** Numbers our pings, direct and relayed alike, so that an ack names exactly one of them. */
  private sequence = 0;
  private leaving = false;
  private messages: GossipMessage[] = [];
  private events: MembershipEvent[] = [];
  private readonly counts: Mutable<GossipCounters> = {
    probes: 0,
    indirectProbes: 0,
    probesFailed: 0,
    refutations: 0,
    syncsSent: 0,
    membersRejected: 0,
    relaysRejected: 0,
    updatesMalformed: 0,
    messagesDropped: 0,
    eventsDropped: 0,
  };

  constructor(config: GossipConfig, prng: Prng) {
    validateGossipConfig(config);
    this.id = config.id;
    this.config = config;
    this.prng = prng;
    this.broadcasts = new BroadcastQueue(config.membersMax);
    const self: MemberRecord = { id: config.id, address: config.address, incarnation: 0, state: 'alive', since: 0, by: config.id };
    this.records.set(self.id, self);
    this.broadcasts.enqueue(claimOf(self));
    // A random phase keeps nodes that start together from probing and syncing in lockstep.
    this.probeElapsed = prng.int(config.probeIntervalTicks);
    this.syncElapsed = prng.int(config.syncIntervalTicks);
  }

  // ---------------------------------------------------------------- inputs

  /** A peer found by other means (the transport's hello with a seed): start gossiping with it. */
  addPeer(id: string, address: string): void {
    assert(id !== '', 'a peer needs an id');
    assert(address !== '', 'a peer needs an address');
    if (id === this.id) return;
    if (!this.records.has(id)) this.applyClaim({ id, address, incarnation: 0, state: 'alive', by: id }, this.id);
    // Exchange views even with a member we knew: a newcomer learns everyone at once, and a member we
    // believe dead hears so and refutes.
    this.sendSync('sync', id);
  }

  tick(): void {
    this.ticks++;
    this.tickProbe();
    this.tickSuspicions();
    this.tickSync();
    this.tickRetention();
    this.expireRelays();
  }

  step(message: GossipMessage): void {
    if (message.to !== this.id || message.from === this.id) return;
    this.applyClaims(message.updates, message.from);
    this.syncIfStranger(message);
    switch (message.type) {
      case 'ping':
        this.onPing(message);
        break;
      case 'ack':
        this.onAck(message);
        break;
      case 'pingReq':
        this.onPingReq(message);
        break;
      case 'sync':
        this.applyClaims(message.state, message.from);
        this.sendSync('syncReply', message.from);
        break;
      case 'syncReply':
        this.applyClaims(message.state, message.from);
        break;
      default:
        unreachable(message, 'gossip message');
    }
  }

  /** Graceful leave: announce 'left' with a higher incarnation; keep gossiping so it spreads. */
  leave(): void {
    if (this.leaving) return;
    this.leaving = true;
    const self = this.self();
    self.incarnation++;
    self.state = 'left';
    self.since = this.ticks;
    this.broadcasts.enqueue(claimOf(self));
  }

  // ---------------------------------------------------------------- outputs

  /** Messages to send and events that happened since the last call. */
  drain(): { messages: GossipMessage[]; events: MembershipEvent[] } {
    const drained = { messages: this.messages, events: this.events };
    this.messages = [];
    this.events = [];
    return drained;
  }

  /** Every member known, this node included, ordered by id. */
  members(): Member[] {
    return [...this.records.values()].map(snapshotOf).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  member(id: string): Member | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : snapshotOf(record);
  }

  /**
   * After `leave()`: true once the `left` claim has been sent its full share of retransmissions, so
   * the caller may stop ticking without leaving it to peers' failure detection.
   */
  leaveAnnounced(): boolean {
    return this.leaving && !this.broadcasts.has(this.id);
  }

  counters(): GossipCounters {
    return { ...this.counts };
  }

  // ---------------------------------------------------------------- probing

  private tickProbe(): void {
    this.probeElapsed++;
    if (this.probeElapsed === this.config.probeTimeoutTicks) this.onProbeTimeout();
    if (this.probeElapsed < this.config.probeIntervalTicks) return;
    this.probeElapsed = 0;
    this.onProbeIntervalEnd();
    this.startProbe();
  }

  private startProbe(): void {
    assert(this.probe === undefined, 'one probe at a time');
    const target = this.probeOrder.next(
      this.idsWhere((record) => this.shouldProbe(record)),
      this.prng,
    );
    if (target === undefined) return;
    const record = this.records.get(target);
    assert(record !== undefined, 'the probe order yields known members');
    this.probe = { target, sequence: ++this.sequence, incarnation: record.incarnation, acked: false };
    this.counts.probes++;
    this.send({ type: 'ping', to: target, probe: this.probe.sequence });
  }

  /**
   * Probes members in play and, for `deadProbeTicks` after their death, the dead: a member that was
   * only cut off then hears it was declared dead, in the ping itself, and refutes in its ack. Without
   * this, two sides of a healed partition would each wait for a sync to cross.
   */
  private shouldProbe(record: MemberRecord): boolean {
    if (isInPlay(record)) return true;
    return record.state === 'dead' && this.ticks - record.since < this.config.deadProbeTicks;
  }

  /** No direct ack in time: the fault may be on our path only, so let others try theirs. */
  private onProbeTimeout(): void {
    const probe = this.probe;
    if (probe === undefined || probe.acked) return;
    const target = this.records.get(probe.target);
    // The dead are probed only to be told; silence from them is expected.
    if (target === undefined || !isInPlay(target)) return;
    const candidates = this.idsWhere((record) => record.state === 'alive' && record.id !== probe.target);
    const helpers = sample(candidates, this.config.indirectChecks, this.prng);
    for (const helper of helpers) {
      this.send({ type: 'pingReq', to: helper, probe: probe.sequence, target: target.id, targetAddress: target.address });
    }
    if (helpers.length > 0) this.counts.indirectProbes++;
  }

  private onProbeIntervalEnd(): void {
    const probe = this.probe;
    this.probe = undefined;
    if (probe === undefined || probe.acked) return;
    // A leaving node probes only to carry its `left` claim; its verdicts no longer matter.
    if (this.leaving) return;
    const target = this.records.get(probe.target);
    if (target === undefined || !isInPlay(target)) return;
    this.counts.probesFailed++;
    const accusation: MemberUpdate = { ...claimOf(target), incarnation: probe.incarnation, state: 'suspect', by: this.id };
    this.applyClaim(accusation, this.id);
  }

  private onPing(message: PingMessage): void {
    this.send({ type: 'ack', to: message.from, probe: message.probe });
  }

  private onAck(message: AckMessage): void {
    const probe = this.probe;
    if (probe !== undefined && message.probe === probe.sequence) {
      probe.acked = true;
      return;
    }
    const relay = this.relays.get(message.probe);
    // Otherwise a late ack: the probe it answers is already over.
    if (relay === undefined) return;
    this.relays.delete(message.probe);
    this.send({ type: 'ack', to: relay.requester, probe: relay.requesterProbe });
  }

  private onPingReq(message: PingReqMessage): void {
    if (message.target === this.id) {
      this.send({ type: 'ack', to: message.from, probe: message.probe });
      return;
    }
    if (this.relays.size >= RELAYS_MAX) {
      this.counts.relaysRejected++;
      return;
    }
    const sequence = ++this.sequence;
    const expiresAt = this.ticks + this.config.probeIntervalTicks;
    this.relays.set(sequence, { requester: message.from, requesterProbe: message.probe, expiresAt });
    this.send({ type: 'ping', to: message.target, probe: sequence });
  }

  private expireRelays(): void {
    for (const [sequence, relay] of this.relays) {
      if (relay.expiresAt <= this.ticks) this.relays.delete(sequence);
    }
  }

  // ---------------------------------------------------------------- suspicion, sync, retention

  private tickSuspicions(): void {
    const { suspicionMinTicks, suspicionMaxTicks } = this.config;
    for (const [id, suspicion] of this.suspicions) {
      if (!suspicion.hasExpired(this.ticks, suspicionMinTicks, suspicionMaxTicks)) continue;
      const record = this.records.get(id);
      assert(record !== undefined, 'a running suspicion has a member');
      assert(record.state === 'suspect', 'a running suspicion has a suspect member');
      this.transition(record, { ...claimOf(record), state: 'dead', by: this.id });
    }
  }

  private tickSync(): void {
    this.syncElapsed++;
    if (this.syncElapsed < this.config.syncIntervalTicks) return;
    this.syncElapsed = 0;
    // Dead members are candidates on purpose: after a long partition each side believes the other
    // dead, and once deadProbeTicks have passed a sync is the only message still sent across.
    const [peer] = sample(
      this.idsWhere((record) => record.state !== 'left'),
      1,
      this.prng,
    );
    if (peer !== undefined) this.sendSync('sync', peer);
  }

  private sendSync(type: 'sync' | 'syncReply', to: string): void {
    const state = [...this.records.values()].map(claimOf);
    assert(state.length <= this.config.membersMax, 'a view never exceeds membersMax');
    if (type === 'sync') this.counts.syncsSent++;
    this.send({ type, to, state });
  }

  /**
   * A probe from a member we do not know means our views differ, most often because a join's sync
   * was lost or the sender was forgotten while cut off: exchange whole views rather than wait for
   * the periodic sync.
   */
  private syncIfStranger(message: GossipMessage): void {
    if (message.type === 'sync' || message.type === 'syncReply') return;
    if (this.records.has(message.from)) return;
    // A full view could not admit it anyway; without this check every ping would cost a sync.
    if (this.records.size >= this.config.membersMax) return;
    this.sendSync('sync', message.from);
  }

  private tickRetention(): void {
    for (const record of this.records.values()) {
      if (record.id === this.id) continue;
      if (record.state !== 'dead' && record.state !== 'left') continue;
      if (this.ticks - record.since < this.config.deadRetentionTicks) continue;
      assert(!this.suspicions.has(record.id), 'a dead or left member is not suspected');
      this.records.delete(record.id);
      this.broadcasts.remove(record.id);
      this.owed.delete(record.id);
      this.emit('forgotten', record);
    }
  }

  // ---------------------------------------------------------------- claims

  private applyClaims(claims: readonly MemberUpdate[], from: string): void {
    if (!Array.isArray(claims)) {
      this.counts.updatesMalformed++;
      return;
    }
    // A peer with a larger membersMax may send more than we would ever keep.
    const count = Math.min(claims.length, this.config.membersMax);
    for (let i = 0; i < count; i++) this.applyClaim(claims[i]!, from);
  }

  /** `from` is the peer that passed the claim on, or this node for claims it makes itself. */
  private applyClaim(claim: MemberUpdate, from: string): void {
    if (!isWellFormed(claim)) {
      this.counts.updatesMalformed++;
      return;
    }
    if (claim.id === this.id) {
      this.onClaimAboutSelf(claim, from);
      return;
    }
    const known = this.records.get(claim.id);
    if (known === undefined) this.admit(claim);
    else if (confirmsSuspicion(known, claim)) this.onConfirmation(known, claim);
    else if (supersedes(known, claim)) this.transition(known, claim);
    else if (supersedes(claim, known)) this.owe(from, known.id);
  }

  private onClaimAboutSelf(claim: MemberUpdate, from: string): void {
    const self = this.self();
    if (claim.incarnation === self.incarnation && claim.state === self.state && claim.address === self.address) return;
    if (claim.incarnation >= self.incarnation) {
      // A claim about us at least as new as ours that is not ours: outbid it so that our own view
      // wins everywhere (SWIM refutation). A leaving node re-asserts `left` the same way. Another
      // address at our own incarnation counts too: a member that took that claim (it knew an older
      // incarnation) would otherwise keep dialing the wrong address, since our own claims at the
      // same incarnation do not supersede it.
      self.incarnation = claim.incarnation + 1;
      this.counts.refutations++;
      this.broadcasts.enqueue(claimOf(self));
    }
    this.owe(from, this.id);
  }

  private owe(peer: string, id: string): void {
    if (peer === this.id) return;
    let ids = this.owed.get(peer);
    if (ids === undefined) {
      if (this.owed.size >= this.config.membersMax) return;
      ids = new Set();
      this.owed.set(peer, ids);
    }
    // Beyond one message's worth the rest waits: the peer's next stale claim asks again.
    if (ids.size < this.config.piggybackMax) ids.add(id);
  }

  private admit(claim: MemberUpdate): void {
    // A member we only hear of as dead or gone would merely be forgotten again later.
    if (!admitsUnknown(claim)) return;
    if (this.records.size >= this.config.membersMax) {
      this.counts.membersRejected++;
      return;
    }
    const { id, address, incarnation, state, by } = claim;
    const record: MemberRecord = { id, address, incarnation, state, since: this.ticks, by };
    this.records.set(id, record);
    if (state === 'suspect') this.startSuspicion(record);
    this.broadcasts.enqueue(claimOf(record));
    this.emit('joined', record);
  }

  private onConfirmation(known: MemberRecord, claim: MemberUpdate): void {
    const suspicion = this.suspicions.get(known.id);
    assert(suspicion !== undefined, 'a suspect member has a suspicion running');
    assert(suspicion.incarnation === known.incarnation, 'the suspicion is of the suspected incarnation');
    // Pass a new accuser on, so that the others shorten their suspicions too.
    if (suspicion.confirm(claim.by)) this.broadcasts.enqueue({ ...claimOf(known), by: claim.by });
  }

  private transition(record: MemberRecord, claim: MemberUpdate): void {
    assert(supersedes(record, claim), 'a transition moves to a newer claim');
    const previous = record.state;
    record.address = claim.address;
    record.incarnation = claim.incarnation;
    record.state = claim.state;
    record.by = claim.by;
    this.suspicions.delete(record.id);
    if (record.state === 'suspect') this.startSuspicion(record);
    this.broadcasts.enqueue(claimOf(record));
    if (record.state === previous) return;
    record.since = this.ticks;
    this.emit(record.state, record);
  }

  private startSuspicion(record: MemberRecord): void {
    assert(record.state === 'suspect', 'only a suspect member is suspected');
    assert(!this.suspicions.has(record.id), 'one suspicion per member');
    // Only members still in play, other than us and the suspect, can confirm.
    const confirmers = this.idsWhere((other) => other.id !== record.id && isInPlay(other)).length;
    const expected = Math.min(this.config.suspicionConfirmations, confirmers);
    this.suspicions.set(record.id, new Suspicion(record.by, record.incarnation, this.ticks, expected));
  }

  // ---------------------------------------------------------------- plumbing

  private send(outgoing: Outgoing): void {
    if (this.messages.length >= MESSAGES_PENDING_MAX) {
      this.counts.messagesDropped++;
      return;
    }
    this.messages.push({ ...outgoing, from: this.id, updates: this.piggyback(outgoing.to) });
  }

  private piggyback(to: string): MemberUpdate[] {
    const direct = this.directClaims(to);
    const limit = retransmitLimit(this.config.retransmitMultiplier, this.records.size);
    const queued = this.broadcasts.take(this.config.piggybackMax - direct.length, limit);
    const updates = [...direct, ...queued.filter((update) => !direct.some((claim) => claim.id === update.id))];
    assert(updates.length <= this.config.piggybackMax, 'piggyback within piggybackMax');
    return updates;
  }

  /**
   * Claims this recipient needs from us in particular: ours about itself when we suspect it or
   * believe it dead (it alone can refute), then the ones we owe it.
   */
  private directClaims(to: string): MemberUpdate[] {
    const ids = new Set<string>();
    const recipient = this.records.get(to);
    if (recipient?.state === 'suspect' || recipient?.state === 'dead') ids.add(to);
    for (const id of this.owed.get(to) ?? []) ids.add(id);
    this.owed.delete(to);
    const claims: MemberUpdate[] = [];
    for (const id of [...ids].slice(0, this.config.piggybackMax)) {
      const record = this.records.get(id);
      if (record !== undefined) claims.push(claimOf(record));
    }
    return claims;
  }

  private emit(type: MembershipEventType, record: MemberRecord): void {
    assert(record.id !== this.id, 'no events about ourselves');
    if (this.events.length >= EVENTS_PENDING_MAX) {
      this.counts.eventsDropped++;
      return;
    }
    this.events.push({ type, member: snapshotOf(record) });
  }

  private self(): MemberRecord {
    const self = this.records.get(this.id);
    assert(self !== undefined, 'a node always knows itself');
    return self;
  }

  /** Ids of the other members that satisfy `predicate`, in a deterministic order. */
  private idsWhere(predicate: (record: MemberRecord) => boolean): string[] {
    const ids: string[] = [];
    for (const record of this.records.values()) {
      if (record.id !== this.id && predicate(record)) ids.push(record.id);
    }
    return ids;
  }
}

/** Alive or suspect: still taking part, so it can be probed for real and can confirm a suspicion. */
function isInPlay(record: MemberRecord): boolean {
  return record.state === 'alive' || record.state === 'suspect';
}

function claimOf(record: MemberRecord): MemberUpdate {
  return { id: record.id, address: record.address, incarnation: record.incarnation, state: record.state, by: record.by };
}

function snapshotOf(record: MemberRecord): Member {
  return { id: record.id, address: record.address, incarnation: record.incarnation, state: record.state, since: record.since };
}
