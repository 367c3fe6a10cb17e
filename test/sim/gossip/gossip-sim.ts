import {
  Gossip,
  type GossipCounters,
  type GossipLimits,
  type GossipMessage,
  gossipConfig,
  type Member,
  type MembershipEvent,
} from '../../../src/gossip/index.ts';
import { shuffle } from '../../../src/gossip/sampling.ts';
import { Prng } from '../../../src/shared/index.ts';

export interface SimOptions {
  readonly size: number;
  readonly seed: number;
  /** Probability that any one message is lost. */
  readonly lossProbability: number;
  /** Probability that a message takes two ticks instead of one. */
  readonly lateProbability: number;
  readonly limits: Partial<GossipLimits>;
}

export interface SimEvent extends MembershipEvent {
  readonly at: string;
  readonly tick: number;
}

interface InFlight {
  readonly message: GossipMessage;
  readonly deliverAt: number;
}

/**
 * Gossip cores on a simulated network, all randomness from one seed: per-message loss and delay,
 * delivery and tick order, partitions (messages between sides are lost on delivery), and kills (a
 * killed node neither ticks nor receives; what it already sent still arrives). Every tick first
 * delivers what is due, then ticks the live nodes.
 */
export class GossipSim {
  readonly ids: readonly string[];
  readonly events: SimEvent[] = [];
  lossProbability: number;
  now = 0;
  private readonly nodes = new Map<string, Gossip>();
  private readonly killed = new Set<string>();
  private readonly side = new Map<string, number>();
  private readonly network: Prng;
  private inFlight: InFlight[] = [];

  constructor(private readonly options: SimOptions) {
    this.ids = Array.from({ length: options.size }, (_, i) => `g${i + 1}`);
    this.network = new Prng(options.seed);
    this.lossProbability = options.lossProbability;
    for (const [i, id] of this.ids.entries()) {
      this.nodes.set(id, new Gossip(gossipConfig(id, `sim://${id}`, options.limits), new Prng(options.seed * 31 + i + 1)));
    }
  }

  /** Every node but the first joins through the first, as if it were the only seed. */
  joinThroughFirst(): void {
    const [seed, ...rest] = this.ids;
    for (const id of rest) this.node(id).addPeer(seed!, `sim://${seed}`);
    this.collect();
  }

  node(id: string): Gossip {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  live(): string[] {
    return this.ids.filter((id) => !this.killed.has(id));
  }

  view(of: string, about: string): Member | undefined {
    return this.node(of).member(about);
  }

  /** Ids `of` holds alive, itself included, sorted. */
  aliveSet(of: string): string[] {
    return this.node(of)
      .members()
      .filter((member) => member.state === 'alive')
      .map((member) => member.id);
  }

  kill(id: string): void {
    this.killed.add(id);
  }

  partition(sideA: readonly string[]): void {
    for (const id of this.ids) this.side.set(id, sideA.includes(id) ? 1 : 0);
  }

  heal(): void {
    this.side.clear();
  }

  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) this.tick();
  }

  /** Runs until `done` holds, at most `ticks` ticks; the ticks it took, or undefined. */
  runUntil(done: () => boolean, ticks: number): number | undefined {
    for (let i = 0; i <= ticks; i++) {
      if (done()) return i;
      this.tick();
    }
    return undefined;
  }

  counters(): GossipCounters[] {
    return this.ids.map((id) => this.node(id).counters());
  }

  private tick(): void {
    this.now++;
    const due = this.inFlight.filter((flight) => flight.deliverAt <= this.now);
    this.inFlight = this.inFlight.filter((flight) => flight.deliverAt > this.now);
    for (const { message } of shuffle(due, this.network)) {
      if (this.killed.has(message.to) || this.severed(message)) continue;
      this.nodes.get(message.to)?.step(message);
      this.collect();
    }
    for (const id of shuffle(this.live(), this.network)) this.node(id).tick();
    this.collect();
  }

  private severed(message: GossipMessage): boolean {
    return (this.side.get(message.from) ?? 0) !== (this.side.get(message.to) ?? 0);
  }

  private collect(): void {
    for (const [id, node] of this.nodes) {
      const { messages, events } = node.drain();
      for (const event of events) this.events.push({ ...event, at: id, tick: this.now });
      for (const message of messages) {
        if (this.network.float() < this.lossProbability) continue;
        const delay = this.network.float() < this.options.lateProbability ? 2 : 1;
        this.inFlight.push({ message, deliverAt: this.now + delay });
      }
    }
  }
}
