import type { Logger } from 'pino';
import { Gossip, type GossipMessage, gossipConfig, type Member } from '../../gossip/index.ts';
import type { MembershipChange, NodeId, RaftStatus } from '../../raft/index.ts';
import type { Prng } from '../../shared/index.ts';
import { Autopilot, type AutopilotConfig, type MemberHealth } from './autopilot.ts';

export interface MembershipServiceOptions {
  readonly id: NodeId;
  readonly address: string;
  readonly prng: Prng;
  readonly autopilot: AutopilotConfig;
  /** Wall-clock ms, the clock `health` and the autopilot measure in. */
  readonly now: () => number;
  /** How long ago a peer last sent this node anything; undefined if it never did. */
  readonly heardAgoMs: (id: NodeId) => number | undefined;
  readonly send: (to: NodeId, message: GossipMessage) => void;
  /** Keep a peer link to a member gossip has told us about. */
  readonly connect: (address: string) => void;
  readonly log: Logger;
}

/**
 * Who is alive (SWIM gossip) and, on the leader, what that means for who votes (autopilot).
 * Gossip only ever feeds proposals: the Raft configuration changes through the log, one at a time.
 */
export class MembershipService {
  private readonly gossip: Gossip;
  private readonly autopilot: Autopilot;
  /** Wall-clock ms at which each member entered the state we last saw it in. */
  private readonly since = new Map<NodeId, { state: Member['state']; at: number }>();

  constructor(private readonly options: MembershipServiceOptions) {
    this.gossip = new Gossip(gossipConfig(options.id, options.address), options.prng);
    this.autopilot = new Autopilot(options.autopilot);
  }

  addPeer(id: NodeId, address: string): void {
    this.gossip.addPeer(id, address);
    this.flush();
  }

  /** Why a peer link claiming `identity` is not that member (gossip knows it alive elsewhere), or undefined. */
  claimConflict(identity: { readonly id: NodeId; readonly address: string }): string | undefined {
    const member = this.members().find((candidate) => candidate.id === identity.id);
    if (member === undefined || member.state !== 'alive' || member.address === identity.address) return undefined;
    return `a link from ${identity.address} claims id ${identity.id}, which gossip knows alive at ${member.address}`;
  }

  tick(): void {
    this.gossip.tick();
    this.flush();
    // Every node times its view, not just the leader: one that becomes leader then already knows
    // who has long been alive (a learner's stabilization) or dead (removal), instead of starting
    // both clocks at its election.
    this.observeStates(this.options.now());
  }

  onMessage(message: GossipMessage): void {
    this.gossip.step(message);
    this.flush();
  }

  members(): Member[] {
    return this.gossip.members();
  }

  /** The gossip view with how long each member has been in its state, for the autopilot. */
  health(now: number): MemberHealth[] {
    return this.observeStates(now).map((member) => {
      const heardAgoMs = this.options.heardAgoMs(member.id);
      const health = { id: member.id, address: member.address, state: member.state, since: this.since.get(member.id)!.at };
      return heardAgoMs === undefined ? health : { ...health, heardAgoMs };
    });
  }

  private observeStates(now: number): Member[] {
    const members = this.gossip.members();
    for (const member of members) {
      const seen = this.since.get(member.id);
      if (seen === undefined || seen.state !== member.state) this.since.set(member.id, { state: member.state, at: now });
    }
    if (this.since.size > members.length) {
      const known = new Set(members.map((member) => member.id));
      for (const id of [...this.since.keys()]) if (!known.has(id)) this.since.delete(id);
    }
    return members;
  }

  /** On the leader: the one membership change to propose now, if any. */
  nextChange(now: number, status: RaftStatus, notJoining?: ReadonlySet<NodeId>): MembershipChange | undefined {
    return this.autopilot.nextChange(now, this.options.id, status, this.health(now), notJoining);
  }

  /** Announces a graceful leave and keeps gossiping until it has spread, or the time is up. */
  async leave(timeoutMs: number, tickMs: number): Promise<void> {
    this.gossip.leave();
    const deadline = Date.now() + timeoutMs;
    while (!this.gossip.leaveAnnounced() && Date.now() < deadline) {
      this.tick();
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  }

  private flush(): void {
    const { messages, events } = this.gossip.drain();
    for (const message of messages) this.options.send(message.to, message);
    for (const event of events) {
      if (event.type === 'joined' || event.type === 'alive') this.options.connect(event.member.address);
      const level = event.type === 'dead' || event.type === 'left' || event.type === 'joined' ? 'info' : 'debug';
      this.options.log[level]({ member: event.member.id, address: event.member.address }, `member ${event.type}`);
    }
  }
}
