import {
  Gossip,
  type GossipLimits,
  type GossipMessage,
  gossipConfig,
  type Member,
  type MembershipEvent,
  type MemberUpdate,
} from '../../../src/gossip/index.ts';
import { Prng } from '../../../src/shared/index.ts';

export interface SeenEvent extends MembershipEvent {
  readonly at: string;
  readonly tick: number;
}

/**
 * Gossip cores wired by a lossless, instant network: every tick, each running node ticks and then
 * messages are delivered until none is left. Faults are explicit: `down` nodes neither tick nor
 * receive, and `drop` discards the messages it matches.
 */
export class Cluster {
  readonly nodes = new Map<string, Gossip>();
  readonly down = new Set<string>();
  readonly sent: GossipMessage[] = [];
  readonly events: SeenEvent[] = [];
  drop: (message: GossipMessage) => boolean = () => false;
  now = 0;

  constructor(private readonly limits: Partial<GossipLimits> = {}) {}

  /** Starts `id`; it joins through `seed` when one is given. */
  start(id: string, seed?: string): Gossip {
    const node = new Gossip(gossipConfig(id, `mem://${id}`, this.limits), new Prng(this.nodes.size + 1));
    this.nodes.set(id, node);
    if (seed !== undefined) node.addPeer(seed, `mem://${seed}`);
    this.deliver();
    return node;
  }

  /** Starts `ids[0]` and joins the others through it, then lets gossip settle. */
  static formed(ids: readonly string[], limits: Partial<GossipLimits> = {}): Cluster {
    const cluster = new Cluster(limits);
    const [seed, ...rest] = ids;
    cluster.start(seed!);
    for (const id of rest) cluster.start(id, seed);
    cluster.run(cluster.settleTicks());
    return cluster;
  }

  node(id: string): Gossip {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  view(of: string, about: string): Member | undefined {
    return this.node(of).member(about);
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) {
      this.now++;
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick();
      this.deliver();
    }
  }

  /** Runs until `done` holds, at most `ticks` ticks; returns the ticks it took, or undefined. */
  runUntil(done: () => boolean, ticks: number): number | undefined {
    for (let i = 0; i <= ticks; i++) {
      if (done()) return i;
      this.run(1);
    }
    return undefined;
  }

  /** Hands `message` to its recipient as if it came off the network. */
  inject(message: GossipMessage): void {
    this.node(message.to).step(message);
    this.deliver();
  }

  deliver(): void {
    for (let round = 0; round < 1000; round++) {
      const batch = this.collect();
      if (batch.length === 0) return;
      for (const message of batch) {
        if (this.down.has(message.to) || this.drop(message)) continue;
        this.nodes.get(message.to)?.step(message);
      }
    }
    throw new Error('messages kept flowing for 1000 rounds');
  }

  eventsAbout(id: string, type?: MembershipEvent['type']): SeenEvent[] {
    return this.events.filter((event) => event.member.id === id && (type === undefined || event.type === type));
  }

  settleTicks(): number {
    return 10 * (this.limits.probeIntervalTicks ?? 10);
  }

  private collect(): GossipMessage[] {
    const batch: GossipMessage[] = [];
    for (const [id, node] of this.nodes) {
      const { messages, events } = node.drain();
      batch.push(...messages);
      for (const event of events) this.events.push({ ...event, at: id, tick: this.now });
    }
    this.sent.push(...batch);
    return batch;
  }
}

export function claim(fields: Partial<MemberUpdate> & Pick<MemberUpdate, 'id' | 'state'>): MemberUpdate {
  return { address: `mem://${fields.id}`, incarnation: 0, by: 'x', ...fields };
}

export function ping(from: string, to: string, updates: readonly MemberUpdate[], probe = 1_000_000): GossipMessage {
  return { type: 'ping', from, to, probe, updates };
}

export function carries(message: GossipMessage, id: string): MemberUpdate | undefined {
  return message.updates.find((update) => update.id === id);
}
