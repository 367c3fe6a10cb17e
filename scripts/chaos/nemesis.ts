import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
import type { Prng } from '../../src/shared/index.ts';
import { FAILPOINT_NAMES, type FailpointName } from '../../src/storage/index.ts';
import type { ClusterHandle } from '../fault/cluster-handle.ts';
import { flipBits, truncateOne } from '../fault/disk-faults.ts';
import { findLeader, healAll, partition } from '../fault/network-faults.ts';
import { armFailpoint, failDisk, health, metric, skewClock, stallDisk, timeToHealthy } from '../fault/node-faults.ts';

/** How long the nemesis waits for the nodes a fault touched to be healthy again before it goes on. */
const REPAIR_WAIT_MS = 60_000;

/** Every crash point on the leader and on a follower: the order the failpoints fault walks. */
const FAILPOINT_SWEEP: readonly { point: FailpointName; role: 'leader' | 'follower' }[] = FAILPOINT_NAMES.flatMap((point) => [
  { point, role: 'leader' as const },
  { point, role: 'follower' as const },
]);

interface Injected {
  readonly target: string;
  readonly detail: string;
  readonly detected: boolean | undefined;
  /** The nodes whose health says when the fault is repaired. */
  readonly touched: readonly string[];
  /** When the fault was lifted (the node restarted, the disk or clock healed): repair time counts from here. */
  readonly liftedAtMs: number;
}

export const FAULT_KINDS = [
  'kill',
  'pause',
  'partition',
  'restart',
  'wipe',
  'truncate',
  'bitflip',
  'powerloss',
  'powerloss-all',
  'diskfull',
  'diskstall',
  'clockskew',
  'failpoints',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Faults that need the nodes started with --test-power-loss. */
export const POWER_FAULTS: readonly FaultKind[] = ['powerloss', 'powerloss-all'];

export interface NemesisOptions {
  readonly cluster: ClusterHandle;
  readonly prng: Prng;
  readonly faults: readonly FaultKind[];
  /** Election timeout of the nodes, to scale pauses around it (0.5x to 10x). */
  readonly electionTimeoutMs: number;
  readonly log: (line: string) => void;
  /** How many times node `index` has reported damage found on its disk at start, so far. */
  readonly startFindings: (index: number) => number;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly detail: string;
  /** Whether the cluster noticed the fault (damage found, disk trouble reported, crash point hit); undefined where nothing is there to notice. */
  readonly detected: boolean | undefined;
  /** From lifting the fault until the nodes it touched answer /health with 200; null if not within 60 s. */
  readonly repairMs: number | null;
}

/**
 * A seeded schedule of faults, one at a time (so a majority always survives), each healed before
 * the next, with fault-free gaps in between: about a quarter of the time is quiet.
 */
export class Nemesis {
  private running = true;
  readonly record: FaultRecord[] = [];
  current = 'none';
  private failpointsInjected = 0;
  private readonly sweepStart: number;

  constructor(private readonly options: NemesisOptions) {
    this.sweepStart = options.prng.int(FAILPOINT_SWEEP.length);
  }

  async run(untilMs: number, clock: () => number): Promise<void> {
    while (this.running && clock() < untilMs) {
      await this.sleepUntil(Math.min(untilMs, clock() + 1000 + this.options.prng.int(2000)), clock);
      if (!this.running || clock() >= untilMs) break;
      const kind = this.options.faults[this.options.prng.int(this.options.faults.length)]!;
      const startMs = clock();
      const injected = await this.inject(kind, untilMs, clock);
      const endMs = clock();
      const healthy = (await timeToHealthy(injected.touched, REPAIR_WAIT_MS, this.options.cluster.access)) !== undefined;
      const repairMs = healthy ? Math.round(clock() - injected.liftedAtMs) : null;
      if (!healthy)
        for (const address of injected.touched)
          this.options.log(`nemesis: ${address} still unhealthy: ${await describeHealth(address, this.options.cluster.access)}`);
      this.options.log(`nemesis: ${kind} done (${injected.detail}); ${repairMs === null ? 'NOT healthy' : `healthy after ${repairMs} ms`}`);
      this.record.push({ kind, target: injected.target, startMs, endMs, detail: injected.detail, detected: injected.detected, repairMs });
    }
  }

  stop(): void {
    this.running = false;
  }

  /** Undoes every fault: resumes paused nodes, heals partitions. Killed nodes were restarted by inject. */
  async healEverything(): Promise<void> {
    for (let index = 0; index < this.options.cluster.addresses.length; index++) await this.options.cluster.act(index, 'resume');
    await healAll(this.options.cluster.addresses, this.options.cluster.access);
  }

  private async inject(kind: FaultKind, untilMs: number, clock: () => number): Promise<Injected> {
    const { cluster, prng } = this.options;
    if (kind === 'failpoints') return this.crashAtFailpoint(untilMs, clock);
    const index = await this.pickTarget();
    const target = cluster.addresses[index]!;
    const holdMs = (ms: number) => this.sleepUntil(Math.min(untilMs, clock() + ms), clock);
    const label = kind === 'powerloss-all' ? 'every node' : target;
    this.current = `${kind} ${label}`;
    this.options.log(`nemesis: ${kind} ${label}`);
    let detail = '';
    const findingsBefore = this.options.startFindings(index);
    let detected: boolean | undefined;
    let liftedAtMs: number | undefined;
    const lifted = () => {
      liftedAtMs = clock();
    };
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
          lifted();
          detected = await this.foundDamage(index, findingsBefore);
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
        lifted();
        detail = `power cut, down ${downMs} ms`;
        detected = await this.foundDamage(index, findingsBefore);
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
        return { target: 'all', detail: `power cut on every node, down ${downMs} ms`, detected: undefined, touched: cluster.addresses, liftedAtMs: clock() };
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
      case 'diskfull': {
        // Issue "disk trouble": the disk refuses writes; the node must say so and come back alone.
        const code = prng.int(2) === 0 ? 'ENOSPC' : 'EIO';
        const fullMs = 2000 + prng.int(4000);
        detected = await diskEpisode(
          target,
          cluster.access,
          () => failDisk(target, code, cluster.access),
          () => holdMs(fullMs),
          () => failDisk(target, null, cluster.access),
        );
        detail = `${code} for ${fullMs} ms`;
        break;
      }
      case 'diskstall': {
        // Writes hang instead of failing: the node's watchdog (--disk-stall-ms, 2 s) must take it out.
        const stallMs = 3000 + prng.int(4000);
        detected = await diskEpisode(
          target,
          cluster.access,
          () => stallDisk(target, true, cluster.access),
          () => holdMs(stallMs),
          () => stallDisk(target, false, cluster.access),
        );
        detail = `stalled ${stallMs} ms`;
        break;
      }
      case 'clockskew': {
        // RELIABILITY #10: a wrong clock must not end leases early (the checker measures them).
        const offsetMs = (prng.int(2) === 0 ? 1 : -1) * (1000 + prng.int(600_000));
        const driftPpm = prng.int(2001) - 1000;
        const strobe = prng.int(3) === 0;
        const skewMs = 3000 + prng.int(7000);
        const until = Math.min(untilMs, clock() + skewMs);
        for (let flip = 1; clock() < until; flip = -flip) {
          await skewClock(target, strobe ? flip * offsetMs : offsetMs, driftPpm, cluster.access);
          await this.sleepUntil(strobe ? Math.min(until, clock() + 200) : until, clock);
        }
        await skewClock(target, 0, 0, cluster.access);
        detail = `${strobe ? 'strobed ±' : ''}${offsetMs} ms, ${driftPpm} ppm for ${skewMs} ms`;
        break;
      }
      case 'partition': {
        const others = cluster.addresses.filter((address) => address !== target);
        const oneWay = prng.int(4) === 0;
        await partition(target, others, oneWay, cluster.access).catch(() => undefined);
        const cutMs = 2000 + prng.int(6000);
        await holdMs(cutMs);
        await healAll(cluster.addresses, cluster.access);
        detail = `${oneWay ? 'one-way ' : ''}isolated ${cutMs} ms`;
        break;
      }
    }
    this.current = 'none';
    return { target, detail, detected, touched: [target], liftedAtMs: liftedAtMs ?? clock() };
  }

  /**
   * RELIABILITY #20: crash points swept in turn over every point on the leader and on a follower
   * (the sweep starts at a seeded place, so runs with different seeds cover it between them).
   * Points that need an event the workload does not cause on its own are provoked: an election for
   * vote points (the leader is cut off briefly), a snapshot install (the target is cut off until
   * the leader has compacted past it).
   */
  private async crashAtFailpoint(untilMs: number, clock: () => number): Promise<Injected> {
    const { cluster, prng } = this.options;
    const { point, role } = FAILPOINT_SWEEP[(this.sweepStart + this.failpointsInjected++) % FAILPOINT_SWEEP.length]!;
    const leader = cluster.addresses.indexOf((await findLeader(cluster.addresses, cluster.access)) ?? '');
    const index = role === 'leader' && leader >= 0 ? leader : (Math.max(leader, 0) + 1 + prng.int(cluster.addresses.length - 1)) % cluster.addresses.length;
    const target = cluster.addresses[index]!;
    // Votes and installs come one at a time, and only when provoked: their first hit is the one.
    const onHit = point.includes('vote') || point.includes('snapshot-install') ? 1 : 1 + prng.int(3);
    this.current = `failpoint ${point}@${onHit} on ${role} ${target}`;
    this.options.log(`nemesis: failpoints ${point}@${onHit} on ${role} ${target}`);
    await armFailpoint(target, point, onHit, cluster.access);
    const armedAt = clock();
    const crashed = async (waitMs: number) => this.waitForExit(index, Math.min(untilMs + REPAIR_WAIT_MS, clock() + waitMs), clock);
    let hit = await crashed(3000);
    if (!hit && point.includes('vote') && leader >= 0) {
      await this.isolateBriefly(cluster.addresses[leader]!, 1500, clock);
      hit = await crashed(4000);
    } else if (!hit && point.includes('snapshot-install')) {
      await this.isolateBriefly(target, 12_000, clock);
      hit = await crashed(6000);
    } else if (!hit) hit = await crashed(5000);
    const hitAfterMs = Math.round(clock() - armedAt);
    const liftedAtMs = clock();
    if (hit) await cluster.act(index, 'restart');
    else await armFailpoint(target, null, 1, cluster.access).catch(() => undefined);
    this.current = 'none';
    const detail = `${point}@${onHit} on ${role}: ${hit ? `crashed after ${hitAfterMs} ms, restarted` : 'not hit, disarmed'}`;
    return { target, detail, detected: hit, touched: [target], liftedAtMs };
  }

  private async waitForExit(index: number, deadline: number, clock: () => number): Promise<boolean> {
    while (clock() < deadline) {
      if (!(await this.options.cluster.isRunning(index))) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  private async isolateBriefly(address: string, ms: number, clock: () => number): Promise<void> {
    const others = this.options.cluster.addresses.filter((other) => other !== address);
    await partition(address, others, false, this.options.cluster.access).catch(() => undefined);
    await this.sleepUntil(clock() + ms, clock);
    await healAll(this.options.cluster.addresses, this.options.cluster.access);
  }

  /** Whether the restarted node reported what it found damaged (it logs that within its start). */
  private async foundDamage(index: number, findingsBefore: number): Promise<boolean> {
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      if (this.options.startFindings(index) > findingsBefore) return true;
      if ((await health(this.options.cluster.addresses[index]!, this.options.cluster.access))?.status === 200)
        return this.options.startFindings(index) > findingsBefore;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  /**
   * Whether losing `target`'s data is survivable now: at least three voters, every other one alive
   * and none of them still recovering from an earlier fault (a recovering node cannot vote).
   */
  private async othersAllAlive(target: string): Promise<boolean> {
    const { addresses, access } = this.options.cluster;
    const leader = await findLeader(addresses, access);
    if (leader === undefined) return false;
    try {
      const view = await clusterView(leader, access);
      const voters = view.members.filter((member) => member.raft === 'voter');
      const others = voters.filter((member) => member.address !== target);
      if (voters.length < 3 || !others.every((member) => member.state === 'alive')) return false;
      const views = await Promise.all(others.map((member) => clusterView(member.address!, access)));
      return views.every((other) => !other.self.recovering);
    } catch {
      return false;
    }
  }

  /** The leader half of the time (the interesting victim), otherwise any node. */
  private async pickTarget(): Promise<number> {
    const addresses = this.options.cluster.addresses;
    if (this.options.prng.int(2) === 0) {
      const leader = await findLeader(addresses, this.options.cluster.access);
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

async function clusterView(address: string, access: NodeAccess): Promise<ClusterViewReply> {
  const reply = await nodeRequest(address, '/cluster?stale=1', access, { timeoutMs: 1000 });
  return JSON.parse(reply.text) as ClusterViewReply;
}

/** What an unhealthy node says of itself: its health and the Raft fields that explain it. */
async function describeHealth(address: string, access: NodeAccess): Promise<string> {
  const state = await health(address, access);
  if (state === undefined) return 'not answering (not running, or stopped)';
  const view = await clusterView(address, access).catch(() => undefined);
  const self = (view as { self?: Record<string, unknown> } | undefined)?.self;
  return `${state.status} ${state.reason}; self ${JSON.stringify(self ?? {}).slice(0, 400)}`;
}

/** Injects a disk fault, holds it, lifts it: whether the node entered disk trouble meanwhile. */
async function diskEpisode(
  target: string,
  access: NodeAccess,
  inject: () => Promise<void>,
  hold: () => Promise<void>,
  lift: () => Promise<void>,
): Promise<boolean> {
  const failuresBefore = (await metric(target, 'quorumq_disk_failures', access)) ?? 0;
  await inject();
  await hold();
  const detected = ((await metric(target, 'quorumq_disk_failures', access)) ?? 0) > failuresBefore;
  await lift();
  return detected;
}
