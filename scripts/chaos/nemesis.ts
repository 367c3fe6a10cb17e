import type { Prng } from '../../src/shared/index.ts';
import type { ClusterHandle } from '../fault/cluster-handle.ts';
import { flipBits, truncateOne } from '../fault/disk-faults.ts';
import { findLeader, healAll, partition } from '../fault/network-faults.ts';

export type FaultKind = 'kill' | 'pause' | 'partition' | 'restart' | 'wipe' | 'truncate' | 'bitflip' | 'powerloss' | 'powerloss-all';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition', 'restart', 'wipe', 'truncate', 'bitflip', 'powerloss', 'powerloss-all'];
/** Faults that need the nodes started with --test-power-loss. */
export const POWER_FAULTS: readonly FaultKind[] = ['powerloss', 'powerloss-all'];

export interface NemesisOptions {
  readonly cluster: ClusterHandle;
  readonly prng: Prng;
  readonly faults: readonly FaultKind[];
  /** Election timeout of the nodes, to scale pauses around it (0.5x to 10x). */
  readonly electionTimeoutMs: number;
  readonly log: (line: string) => void;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly detail: string;
}

/**
 * A seeded schedule of faults, one at a time (so a majority always survives), each healed before
 * the next, with fault-free gaps in between: about a quarter of the time is quiet.
 */
export class Nemesis {
  private running = true;
  readonly record: FaultRecord[] = [];
  current = 'none';

  constructor(private readonly options: NemesisOptions) {}

  async run(untilMs: number, clock: () => number): Promise<void> {
    while (this.running && clock() < untilMs) {
      await this.sleepUntil(Math.min(untilMs, clock() + 1000 + this.options.prng.int(2000)), clock);
      if (!this.running || clock() >= untilMs) break;
      const kind = this.options.faults[this.options.prng.int(this.options.faults.length)]!;
      const startMs = clock();
      const { target, detail } = await this.inject(kind, untilMs, clock);
      this.record.push({ kind, target, startMs, endMs: clock(), detail });
    }
  }

  stop(): void {
    this.running = false;
  }

  /** Undoes every fault: resumes paused nodes, heals partitions. Killed nodes were restarted by inject. */
  async healEverything(): Promise<void> {
    for (let index = 0; index < this.options.cluster.addresses.length; index++) await this.options.cluster.act(index, 'resume');
    await healAll(this.options.cluster.addresses);
  }

  private async inject(kind: FaultKind, untilMs: number, clock: () => number): Promise<{ target: string; detail: string }> {
    const { cluster, prng } = this.options;
    const index = await this.pickTarget();
    const target = cluster.addresses[index]!;
    const holdMs = (ms: number) => this.sleepUntil(Math.min(untilMs, clock() + ms), clock);
    const label = kind === 'powerloss-all' ? 'every node' : target;
    this.current = `${kind} ${label}`;
    this.options.log(`nemesis: ${kind} ${label}`);
    let detail = '';
    switch (kind) {
      case 'kill': {
        await cluster.act(index, 'kill');
        const downMs = prng.int(5000);
        await holdMs(downMs);
        await cluster.act(index, 'restart');
        detail = `down ${downMs} ms`;
        break;
      }
      case 'restart':
        await cluster.act(index, 'restart');
        detail = 'kill -9 and immediate restart';
        break;
      case 'truncate':
      case 'bitflip':
        // RELIABILITY #14, #15: damage on a stopped minority; the node must detect it and recover.
        if (await this.othersAllAlive(target)) {
          await cluster.act(index, 'kill');
          detail = kind === 'truncate' ? truncateOne(cluster.dataDir(index), prng) : flipBits(cluster.dataDir(index), prng);
          await cluster.act(index, 'restart');
        } else {
          detail = `${kind} skipped: another voter is not alive or still recovering, or fewer than three vote`;
        }
        break;
      case 'powerloss': {
        // RELIABILITY #11: what no fsync covered is gone, as after a real power cut.
        await cluster.act(index, 'powercut');
        const downMs = prng.int(3000);
        await holdMs(downMs);
        await cluster.act(index, 'restart');
        detail = `power cut, down ${downMs} ms`;
        break;
      }
      case 'powerloss-all': {
        // RELIABILITY #13: every node at once; nothing acknowledged may be lost even so.
        const all = cluster.addresses.map((_, node) => node);
        await Promise.all(all.map((node) => cluster.act(node, 'powercut')));
        const downMs = prng.int(3000);
        await holdMs(downMs);
        await Promise.all(all.map((node) => cluster.act(node, 'restart')));
        this.current = 'none';
        return { target: 'all', detail: `power cut on every node, down ${downMs} ms` };
      }
      case 'wipe':
        // The node returns blank under a new id; the autopilot adds it and retires the old id.
        // Lost data is only survivable on a minority: wipe only when every other voter is alive.
        if (await this.othersAllAlive(target)) {
          await cluster.act(index, 'wipe');
          detail = 'kill -9, data deleted, started blank';
        } else {
          await cluster.act(index, 'restart');
          detail = 'wipe skipped (another voter is not alive): kill -9 and restart instead';
        }
        break;
      case 'pause': {
        const factors = [0.5, 1, 3, 10];
        const pausedMs = Math.round(this.options.electionTimeoutMs * factors[prng.int(factors.length)]!);
        await cluster.act(index, 'pause');
        await holdMs(pausedMs);
        await cluster.act(index, 'resume');
        detail = `paused ${pausedMs} ms`;
        break;
      }
      case 'partition': {
        const others = cluster.addresses.filter((address) => address !== target);
        const oneWay = prng.int(4) === 0;
        await partition(target, others, oneWay).catch(() => undefined);
        const cutMs = 2000 + prng.int(6000);
        await holdMs(cutMs);
        await healAll(cluster.addresses);
        detail = `${oneWay ? 'one-way ' : ''}isolated ${cutMs} ms`;
        break;
      }
    }
    this.current = 'none';
    return { target, detail };
  }

  /**
   * Whether losing `target`'s data is survivable now: at least three voters, every other one alive
   * and none of them still recovering from an earlier fault (a recovering node cannot vote).
   */
  private async othersAllAlive(target: string): Promise<boolean> {
    const leader = await findLeader(this.options.cluster.addresses);
    if (leader === undefined) return false;
    try {
      const view = await clusterView(leader);
      const voters = view.members.filter((member) => member.raft === 'voter');
      const others = voters.filter((member) => member.address !== target);
      if (voters.length < 3 || !others.every((member) => member.state === 'alive')) return false;
      const views = await Promise.all(others.map((member) => clusterView(member.address!)));
      return views.every((other) => !other.self.recovering);
    } catch {
      return false;
    }
  }

  /** The leader half of the time (the interesting victim), otherwise any node. */
  private async pickTarget(): Promise<number> {
    const addresses = this.options.cluster.addresses;
    if (this.options.prng.int(2) === 0) {
      const leader = await findLeader(addresses);
      const index = addresses.indexOf(leader ?? '');
      if (index >= 0) return index;
    }
    return this.options.prng.int(addresses.length);
  }

  private async sleepUntil(deadline: number, clock: () => number): Promise<void> {
    while (this.running && clock() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(100, deadline - clock())));
  }
}

interface ClusterViewReply {
  readonly self: { readonly recovering?: boolean };
  readonly members: readonly { readonly address: string | null; readonly state: string; readonly raft: string | null }[];
}

async function clusterView(address: string): Promise<ClusterViewReply> {
  const response = await fetch(`http://${address}/cluster?stale=1`, { signal: AbortSignal.timeout(1000) });
  return (await response.json()) as ClusterViewReply;
}
