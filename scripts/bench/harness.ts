// What every benchmark workload shares: a fresh 3-node cluster per run (free ports, temp folder,
// always stopped by PID), SDK clients that are closed afterwards, a per-node RSS sampler, HDR
// histograms for latencies, and message bodies with a sequence number and a send time.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Histogram } from 'hdr-histogram-js';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
import { makeSecureSetup, type SecureSetupOptions } from '../../cluster/secure-setup.ts';
import { connect, type QuorumqClient } from '../../src/client/index.ts';

/** A run's numbers, flat, by name (the unit is in the name: `Ms`, `PerSec`, `Mb`, or a count). */
export type Figures = Record<string, number>;

export interface TableRow {
  readonly key: string;
  readonly label: string;
  readonly digits: number;
}

export interface Workload {
  readonly name: string;
  readonly title: string;
  /** A run that has not finished by then fails, and its cluster is stopped. */
  readonly timeoutMs: number;
  /** What the workload does, recorded with the results so runs can be compared. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The figures the summary table shows, in order (every figure goes to the JSON). */
  readonly table: readonly TableRow[];
  run(bench: BenchRun): Promise<Figures>;
}

export const CLUSTER_SIZE = 3;
export const BODY_BYTES = 256;
const RSS_SAMPLE_MS = 500;
const READY_TIMEOUT_MS = 30_000;
const STATUS_TIMEOUT_MS = 2000;

/** A message body: its sequence number, when it was sent (epoch ms, fractional), and 256 random bytes as base64. */
export interface Body {
  readonly seq: number;
  readonly at: number;
  readonly data: string;
}

/** 256 random bytes for each message, as base64 strings (344 characters), made before timing starts. */
export function payloads(count: number): string[] {
  const bytes = randomBytes(BODY_BYTES * count);
  return Array.from({ length: count }, (_, index) => bytes.subarray(index * BODY_BYTES, (index + 1) * BODY_BYTES).toString('base64'));
}

/** Wall-clock milliseconds with sub-millisecond resolution; producer and consumer share this process's clock. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Latencies in microseconds, 3 significant digits, up to 10 minutes. */
export class Latency {
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  get maxMs(): number {
    return this.histogram.maxValue / 1000;
  }

  /** `{ <prefix>P50Ms, <prefix>P99Ms, <prefix>MaxMs }`. */
  figures(prefix: string): Figures {
    return { [`${prefix}P50Ms`]: this.percentileMs(50), [`${prefix}P99Ms`]: this.percentileMs(99), [`${prefix}MaxMs`]: this.maxMs };
  }
}

export interface ClusterView {
  readonly self: { readonly address: string; readonly role: string };
  readonly leader: { readonly address: string | null } | null;
}

/** A status read (`GET`) from a node, parsed; undefined when it fails or answers other than 2xx. */
async function getJson<T>(address: string, path: string, access: NodeAccess): Promise<T | undefined> {
  try {
    const reply = await nodeRequest(address, path, access, { timeoutMs: STATUS_TIMEOUT_MS });
    return reply.status >= 200 && reply.status <= 299 ? (JSON.parse(reply.text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** What a secured bench cluster runs with (`--secure`: all three); clients use its CA and admin token. */
export type Security = Pick<SecureSetupOptions, 'clusterKey' | 'auth' | 'tls'>;

/** One fresh cluster: started on free ports in a temp folder; `stop` kills every node by PID and deletes the folder. */
export class BenchCluster {
  readonly local: LocalCluster;
  readonly addresses: string[];
  /** Peak resident set size seen for each node (by index), in bytes. */
  readonly peakRss: number[];
  private readonly sampler: NodeJS.Timeout;

  private constructor(
    readonly dataRoot: string,
    ports: number[],
    /** How clients reach the nodes: the CA and admin token of a secured cluster, nothing otherwise. */
    readonly access: NodeAccess,
    nodeArgs: readonly string[],
  ) {
    this.local = new LocalCluster({ ports, dataRoot, extraArgs: nodeArgs });
    this.addresses = this.local.nodes.map((node) => node.address);
    this.peakRss = this.local.nodes.map(() => 0);
    this.sampler = setInterval(() => this.sampleRss(), RSS_SAMPLE_MS);
    this.sampler.unref();
  }

  static async start(security: Security = {}): Promise<BenchCluster> {
    const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-bench-'));
    let setup: Awaited<ReturnType<typeof makeSecureSetup>>;
    try {
      setup = await makeSecureSetup(join(dataRoot, 'secure'), security);
    } catch (error) {
      rmSync(dataRoot, { recursive: true, force: true });
      throw error;
    }
    const cluster = new BenchCluster(dataRoot, await freePorts(CLUSTER_SIZE), setup.access, setup.nodeArgs);
    live.add(cluster);
    try {
      cluster.local.startAll();
      await cluster.waitReady();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Until every node answers `/health` with 200 (a leader is known and it is caught up). */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const healthy = await Promise.all(
        this.addresses.map(async (address) => {
          try {
            return (await nodeRequest(address, '/health', this.access, { timeoutMs: STATUS_TIMEOUT_MS })).status === 200;
          } catch {
            return false;
          }
        }),
      );
      if (healthy.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`the cluster was not healthy within ${timeoutMs} ms (healthy: ${healthy.join(', ')})`);
      await sleep(50);
    }
  }

  /** The leader's index, from `GET /cluster` on the first node that answers. */
  async leaderIndex(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const address of this.addresses) {
        const view = await getJson<ClusterView>(address, '/cluster', this.access);
        const leader = view?.leader?.address;
        if (leader === undefined || leader === null) continue;
        const index = this.addresses.indexOf(leader);
        if (index >= 0) return index;
      }
      if (Date.now() > deadline) throw new Error(`no node named a leader within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** CPU time (user + system) each running node has used since it started, in seconds. */
  cpuSeconds(): number[] {
    return this.local.nodes.map((node) => {
      const pid = node.process?.pid;
      if (pid === undefined) return 0;
      try {
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / clockTicks();
      } catch {
        return 0;
      }
    });
  }

  /** Peak RSS per node in MB. */
  rssFigures(): Figures {
    this.sampleRss();
    const figures: Figures = {};
    this.peakRss.forEach((bytes, index) => {
      figures[`node${index + 1}PeakRssMb`] = bytes / 1048576;
    });
    figures.maxNodePeakRssMb = Math.max(...this.peakRss) / 1048576;
    return figures;
  }

  private sampleRss(): void {
    this.local.nodes.forEach((node, index) => {
      const pid = node.process?.pid;
      if (pid === undefined) return;
      try {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (match !== null) this.peakRss[index] = Math.max(this.peakRss[index]!, Number(match[1]) * 1024);
      } catch {
        // the node exited between the check and the read
      }
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    try {
      await this.local.stopAll('SIGKILL');
    } finally {
      rmSync(this.dataRoot, { recursive: true, force: true });
      live.delete(this);
    }
  }

  /** For SIGINT: kill every node by PID at once, without waiting, and delete the folder. */
  killNow(): void {
    for (const node of this.local.nodes) {
      const pid = node.process?.pid;
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

const live = new Set<BenchCluster>();
const liveChildren = new Set<{ kill(signal: NodeJS.Signals): unknown }>();

/** Child processes (other than nodes) that SIGINT must also end. */
export function trackChild(child: { kill(signal: NodeJS.Signals): unknown }): () => void {
  liveChildren.add(child);
  return () => liveChildren.delete(child);
}

/** On Ctrl-C or SIGTERM: kill every node and helper this process started, then exit. */
export function stopEverythingOnSignal(): void {
  const stop = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping ${live.size} cluster(s) and ${liveChildren.size} helper process(es)`);
    for (const cluster of live) cluster.killNow();
    for (const child of liveChildren) child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** Where a client landed: the SDK picks its first node at random. */
export interface Placement {
  readonly client: string;
  readonly address: string;
  readonly role: string;
}

/**
 * One run of one workload: starts clusters and clients for it, and afterwards closes every
 * client and stops every cluster, whether the run succeeded, failed or timed out.
 */
export class BenchRun {
  /** Aborted when the run times out: loops should stop. */
  readonly signal: AbortSignal;
  /** Non-numeric facts worth keeping with the figures (client placement, first errors). */
  readonly details: Record<string, unknown> = {};
  private readonly clusters: BenchCluster[] = [];
  private readonly clients: QuorumqClient[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private lastProgress = 0;

  constructor(
    readonly label: string,
    signal: AbortSignal,
    /** What this run's clusters are secured with (`npm run bench -- ... --secure`); nothing by default. */
    readonly security: Security = {},
  ) {
    this.signal = signal;
  }

  async startCluster(): Promise<BenchCluster> {
    this.checkAborted();
    const cluster = await BenchCluster.start(this.security);
    this.clusters.push(cluster);
    return cluster;
  }

  /** An SDK client given every node's address (and a secured cluster's token and CA); closed when the run ends. */
  client(cluster: BenchCluster): QuorumqClient {
    const { token, ca } = cluster.access;
    const client = connect({
      nodes: cluster.addresses,
      ...(token === undefined ? {} : { token }),
      ...(ca === undefined ? {} : { tls: { ca } }),
    });
    this.clients.push(client);
    return client;
  }

  /** Connects `client` (a stale cluster read, no message) and says which node it landed on. */
  async place(name: string, client: QuorumqClient): Promise<Placement> {
    const view = (await client.cluster({ stale: true })) as ClusterView;
    const placement = { client: name, address: view.self.address, role: view.self.role };
    ((this.details.placement ??= []) as Placement[]).push(placement);
    return placement;
  }

  /** Closes `clients` and stops `cluster` before the run ends (a run that uses more than one cluster). */
  async release(cluster: BenchCluster, clients: readonly QuorumqClient[]): Promise<void> {
    for (const client of clients) client.close();
    await cluster.stop();
  }

  onCleanup(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /** Keeps the first few errors of each kind for the JSON. */
  noteError(kind: string, error: unknown): void {
    const errors = (this.details.errors ??= {}) as Record<string, { count: number; first: string[] }>;
    const entry = (errors[kind] ??= { count: 0, first: [] });
    entry.count++;
    if (entry.first.length < 5) entry.first.push(error instanceof Error ? error.message : String(error));
  }

  /** A progress line, at most every 2 s unless `force`. */
  progress(text: string | (() => string), force = false): void {
    const at = Date.now();
    if (!force && at - this.lastProgress < 2000) return;
    this.lastProgress = at;
    console.error(`  ${this.label}: ${typeof text === 'string' ? text : text()}`);
  }

  checkAborted(): void {
    if (this.signal.aborted) throw new Error(`${this.label} was stopped: ${String(this.signal.reason)}`);
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const cleanup of this.cleanups) await cleanup();
    await Promise.allSettled(this.clusters.map((cluster) => cluster.stop()));
  }
}

/**
 * Waits for `done()` to be true, checking every 20 ms; gives up (returning false) when nothing
 * changed in `progressOf()` for `stallMs`, or when the run is aborted.
 */
export async function until(bench: BenchRun, done: () => boolean, progressOf: () => number, stallMs: number): Promise<boolean> {
  let last = progressOf();
  let lastChange = Date.now();
  while (!done()) {
    bench.checkAborted();
    const current = progressOf();
    if (current !== last) {
      last = current;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      return false;
    }
    await sleep(20);
  }
  return true;
}

/**
 * What happened to each sequence number: confirmed to its producer, delivered (under which
 * message ids, how often), acked. Undelivered = confirmed but never delivered; a duplicate delivery is a
 * second delivery of a sequence number; a duplicate message is a second message id carrying it
 * (enqueued twice).
 */
export interface LedgerFigures {
  /** Sent (sequence number below `sent`) and never delivered. */
  readonly missing: number;
  /** Confirmed and never delivered (see `classifyUndelivered` for whether the cluster still has them). */
  readonly undelivered: number;
  readonly duplicateDeliveries: number;
  readonly duplicateMessages: number;
  /** Delivered although its enqueue failed (an unknown outcome that turned out applied). */
  readonly unconfirmedDelivered: number;
  /** Deliveries whose body this run did not send. */
  readonly unexpected: number;
  readonly ackRejected: number;
}

export class Ledger {
  confirmed = 0;
  /** Sequence numbers delivered at least once. */
  delivered = 0;
  deliveries = 0;
  /** Sequence numbers acked at least once. */
  acked = 0;
  lastAckAt = 0;
  unexpected = 0;
  ackRejected = 0;
  private readonly confirmedFlags: Uint8Array;
  private readonly confirmedId: (string | undefined)[];
  private readonly deliveryCounts: Uint32Array;
  private readonly ackedFlags: Uint8Array;
  private readonly firstId: (string | undefined)[];
  private duplicateIds = 0;
  private readonly extraIds = new Map<number, Set<string>>();

  constructor(readonly total: number) {
    this.confirmedFlags = new Uint8Array(total);
    this.confirmedId = new Array<string | undefined>(total);
    this.deliveryCounts = new Uint32Array(total);
    this.ackedFlags = new Uint8Array(total);
    this.firstId = new Array<string | undefined>(total);
  }

  /** `id`: the message id the confirm named, to look the message up if it is never delivered. */
  confirm(seq: number, id: string): void {
    if (this.confirmedFlags[seq] === 1) return;
    this.confirmedFlags[seq] = 1;
    this.confirmedId[seq] = id;
    this.confirmed++;
  }

  /**
   * Asks the cluster (`GET /queues/:q/messages/:id` on `address`) about each confirmed message
   * that was never delivered: still in the queue (ready, delayed or in flight) is `stuck`;
   * anything else (gone, or acked or dead-lettered without a delivery we saw) is `lost`.
   */
  async classifyUndelivered(address: string, queue: string, access: NodeAccess): Promise<{ stuck: number; lost: number; states: Record<string, number> }> {
    const states: Record<string, number> = {};
    for (let seq = 0; seq < this.total; seq++) {
      if (this.confirmedFlags[seq] === 0 || this.deliveryCounts[seq]! > 0) continue;
      const id = this.confirmedId[seq]!;
      let state: string;
      try {
        const reply = await nodeRequest(address, `/queues/${queue}/messages/${encodeURIComponent(id)}`, access, { timeoutMs: STATUS_TIMEOUT_MS });
        state = reply.status === 200 ? (JSON.parse(reply.text) as { state: string }).state : `http ${reply.status}`;
      } catch (error) {
        state = `unknown (${error instanceof Error ? error.message : String(error)})`;
      }
      states[state] = (states[state] ?? 0) + 1;
    }
    const stuck = (states.ready ?? 0) + (states.delayed ?? 0) + (states.inflight ?? 0);
    const undelivered = Object.values(states).reduce((sum, count) => sum + count, 0);
    return { stuck, lost: undelivered - stuck, states };
  }

  /** False for a body this run did not send. */
  deliver(seq: unknown, id: string): seq is number {
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq >= this.total) {
      this.unexpected++;
      return false;
    }
    this.deliveries++;
    if (this.deliveryCounts[seq]!++ === 0) {
      this.delivered++;
      this.firstId[seq] = id;
    } else if (this.firstId[seq] !== id) {
      const extra = this.extraIds.get(seq) ?? new Set<string>();
      if (!extra.has(id)) this.duplicateIds++;
      extra.add(id);
      this.extraIds.set(seq, extra);
    }
    return true;
  }

  ack(seq: number): void {
    if (this.ackedFlags[seq] === 1) return;
    this.ackedFlags[seq] = 1;
    this.acked++;
    this.lastAckAt = now();
  }

  /** An ack the queue refused (for example NOT_FOUND: a retried ack whose first attempt had been applied). */
  rejectAck(): void {
    this.ackRejected++;
  }

  /** Every confirmed sequence number has been delivered at least once. */
  get allConfirmedDelivered(): boolean {
    for (let seq = 0; seq < this.total; seq++) if (this.confirmedFlags[seq] === 1 && this.deliveryCounts[seq] === 0) return false;
    return true;
  }

  /** Every confirmed sequence number has been acked. */
  get allConfirmedAcked(): boolean {
    for (let seq = 0; seq < this.total; seq++) if (this.confirmedFlags[seq] === 1 && this.ackedFlags[seq] === 0) return false;
    return true;
  }

  figures(sent: number): LedgerFigures {
    let undelivered = 0;
    let missing = 0;
    let unconfirmedDelivered = 0;
    for (let seq = 0; seq < sent; seq++) {
      const delivered = this.deliveryCounts[seq]! > 0;
      if (!delivered) missing++;
      if (!delivered && this.confirmedFlags[seq] === 1) undelivered++;
      if (delivered && this.confirmedFlags[seq] === 0) unconfirmedDelivered++;
    }
    return {
      missing,
      undelivered,
      duplicateDeliveries: this.deliveries - this.delivered,
      duplicateMessages: this.duplicateIds,
      unconfirmedDelivered,
      unexpected: this.unexpected,
      ackRejected: this.ackRejected,
    };
  }
}
