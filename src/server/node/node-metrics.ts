import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueStateMachine } from '../../queue/index.ts';
import { ERROR_CODES } from '../../shared/index.ts';
import type { ClusterView } from '../membership/index.ts';
import { registerQueueMetrics } from './queue-metrics.ts';
import { THIS_RELEASE } from './this-release.ts';

interface NodeMetricsOptions {
  /** This node's id: the `node` label of the per-queue series, which every node reports. */
  readonly id: string;
  readonly machine: QueueStateMachine;
  /** Snapshots this node took and installed, and the size of the newest. */
  readonly snapshots: { readonly taken: number; readonly installed: number; readonly bytes: number };
  /** Snapshots that failed their checksum when this node started (it used an older one). */
  readonly damagedSnapshotsAtStart: number;
  readonly snapshotStreams: { readonly completed: number; readonly abandoned: number; readonly rejected: number };
  /** Push subscriptions hosted on this node's client connections. */
  readonly pushSubscriptions: number;
  readonly diskTrouble: { readonly active: boolean; readonly failures: number; readonly recoveries: number };
  cluster(): ClusterView;
}

const ROLES = ['leader', 'follower', 'candidate', 'learner'] as const;

/** Every operation of both client APIs, and the node's own routes. */
const METRIC_OPS: ReadonlySet<string> = new Set([
  'enqueue',
  'receive',
  'ack',
  'nack',
  'extend',
  'configure',
  'purge',
  'delete',
  'getQueue',
  'listQueues',
  'getMessage',
  'peek',
  'pause',
  'resume',
  'redrive',
  'promote',
  'backup',
  'cluster',
  'subscribe',
  'unsubscribe',
  'auth',
  'metrics',
  'faults',
  'unknown',
]);

/** Prometheus metrics of one node (`GET /metrics`), in a registry of its own. */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'op' | 'code'>;
  readonly requestSeconds: Histogram<'op'>;
  readonly logWriteSeconds: Histogram;
  readonly entriesRejected: Counter<'reason'>;
  readonly refused: Counter<'what'>;
  readonly leaderChanges: Counter;

  constructor(source: NodeMetricsOptions) {
    const registry = this.registry;
    // Process memory, event-loop lag and GC: what an operator checks first when a node misbehaves.
    collectDefaultMetrics({ register: registry });
    this.requests = new Counter({
      name: 'quorumq_requests_total',
      help: 'Client requests by operation and outcome',
      labelNames: ['op', 'code'],
      registers: [registry],
    });
    this.requestSeconds = new Histogram({
      name: 'quorumq_request_duration_seconds',
      help: 'Client request latency by operation',
      labelNames: ['op'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.entriesRejected = new Counter({
      name: 'quorumq_entries_rejected_total',
      help: 'Committed log entries skipped because they did not decode (reason decode), and commands that threw while applying (reason apply); any is a bug or a forged entry',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'quorumq_refused_total',
      help: 'What this node refused at its edge: peer links that failed the handshake or claimed a taken id (peer_link), connections past a limit (connection), requests without a valid token (unauthorized), requests a token may not make or a browser may not send (forbidden)',
      labelNames: ['what'],
      registers: [registry],
    });
    this.logWriteSeconds = new Histogram({
      name: 'quorumq_log_write_duration_seconds',
      help: 'Time each batch of log entries and Raft state took to be synced (LevelDB and the acknowledged mark); every acknowledgement waits for one',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    new Gauge({
      name: 'quorumq_raft_role',
      help: '1 for the role this node has now',
      labelNames: ['role'],
      registers: [registry],
      collect() {
        const role = source.cluster().self.role;
        for (const name of ROLES) this.set({ role: name }, name === role ? 1 : 0);
      },
    });
    const raftGauge = (name: string, help: string, read: (view: ClusterView) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read(source.cluster()));
        },
      });
    raftGauge('quorumq_raft_term', 'Current Raft term', (view) => view.self.term);
    raftGauge('quorumq_raft_commit_index', 'Highest log index known committed', (view) => view.self.commitIndex);
    raftGauge('quorumq_raft_applied_index', 'Highest log index applied to the queues', (view) => view.self.appliedIndex);
    raftGauge('quorumq_recovering', '1 while this node repairs data it lost on disk (it does not vote meanwhile)', (view) => (view.self.recovering ? 1 : 0));
    // Cumulative counts as counters (`rate()` applies); the gauges below under the old names stay
    // for dashboards built on them, and will go in a later release.
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    total('quorumq_snapshots_taken_total', 'Snapshots this node took since it started', () => source.snapshots.taken);
    total('quorumq_snapshots_installed_total', 'Snapshots this node installed from a leader since it started', () => source.snapshots.installed);
    total('quorumq_disk_failures_total', 'Times since start the disk refused a write and the node stopped acknowledging', () => source.diskTrouble.failures);
    total('quorumq_disk_recoveries_total', 'Times since start the disk took writes again and the node rejoined from it', () => source.diskTrouble.recoveries);
    new Counter({
      name: 'quorumq_snapshot_streams_total',
      help: 'Snapshot transfers since start: completed and abandoned (as sender), rejected (as receiver: damaged, oversized or out of order)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        const streams = source.snapshotStreams;
        this.inc({ outcome: 'completed' }, streams.completed);
        this.inc({ outcome: 'abandoned' }, streams.abandoned);
        this.inc({ outcome: 'rejected' }, streams.rejected);
      },
    });
    this.leaderChanges = new Counter({
      name: 'quorumq_leader_changes_total',
      help: 'Times since start this node came to know a leader other than the one it knew (an election ended, or it joined)',
      registers: [registry],
    });
    new Gauge({
      name: 'quorumq_replication_lag_entries',
      help: 'On the leader: how many committed entries each member has yet to acknowledge (its match index behind the commit index)',
      labelNames: ['member'],
      registers: [registry],
      collect() {
        this.reset();
        const view = source.cluster();
        if (view.self.role !== 'leader') return;
        for (const member of view.members) {
          if (member.matchIndex !== undefined) this.set({ member: member.id }, Math.max(0, view.self.commitIndex - member.matchIndex));
        }
      },
    });
    registerQueueMetrics(registry, source.id, source.machine, () => Date.now());
    new Gauge({
      name: 'quorumq_release_info',
      help: 'Always 1: the release this node runs, in its labels (a half-done upgrade shows as two versions)',
      labelNames: ['version', 'cluster_version_max'],
      registers: [registry],
      collect() {
        this.set({ version: THIS_RELEASE.version, cluster_version_max: String(THIS_RELEASE.clusterVersionMax) }, 1);
      },
    });
    new Gauge({
      name: 'quorumq_cluster_version',
      help: 'The cluster version this node has applied: what the log may hold (raised once every member supports it)',
      registers: [registry],
      collect() {
        this.set(source.machine.clusterVersion);
      },
    });
    new Gauge({
      name: 'quorumq_snapshots_taken',
      help: 'Snapshots this node took since it started',
      registers: [registry],
      collect() {
        this.set(source.snapshots.taken);
      },
    });
    new Gauge({
      name: 'quorumq_snapshots_installed',
      help: 'Snapshots this node installed from a leader since it started',
      registers: [registry],
      collect() {
        this.set(source.snapshots.installed);
      },
    });
    new Gauge({
      name: 'quorumq_snapshots_damaged_at_start',
      help: 'Snapshots that failed their checksum at start; the node rebuilt from an older one',
      registers: [registry],
      collect() {
        this.set(source.damagedSnapshotsAtStart);
      },
    });
    new Gauge({
      name: 'quorumq_snapshot_bytes',
      help: 'Size of the newest snapshot this node took or installed',
      registers: [registry],
      collect() {
        this.set(source.snapshots.bytes);
      },
    });
    // The same counts as quorumq_snapshot_streams_total, under the old name (see `total` above).
    new Gauge({
      name: 'quorumq_snapshot_streams',
      help: 'Snapshot transfers since start: completed and abandoned (as sender), rejected (as receiver: damaged, oversized or out of order)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const streams = source.snapshotStreams;
        this.set({ outcome: 'completed' }, streams.completed);
        this.set({ outcome: 'abandoned' }, streams.abandoned);
        this.set({ outcome: 'rejected' }, streams.rejected);
      },
    });
    new Gauge({
      name: 'quorumq_disk_unwritable',
      help: '1 while the disk refuses writes (full, failing, read-only) or stalls on one: the node acknowledges nothing meanwhile',
      registers: [registry],
      collect() {
        this.set(source.diskTrouble.active ? 1 : 0);
      },
    });
    new Gauge({
      name: 'quorumq_disk_failures',
      help: 'Times since start the disk refused a write and the node stopped acknowledging',
      registers: [registry],
      collect() {
        this.set(source.diskTrouble.failures);
      },
    });
    new Gauge({
      name: 'quorumq_disk_recoveries',
      help: 'Times since start the disk took writes again and the node rejoined from it',
      registers: [registry],
      collect() {
        this.set(source.diskTrouble.recoveries);
      },
    });
    new Gauge({
      name: 'quorumq_push_subscriptions',
      help: 'Push subscriptions hosted by this node, including unsubscribed ones still holding leases',
      registers: [registry],
      collect() {
        this.set(source.pushSubscriptions);
      },
    });
    new Gauge({
      name: 'quorumq_queue_messages',
      help: 'Messages per queue and state, as this node (the node label) has applied them',
      labelNames: ['queue', 'state', 'node'],
      registers: [registry],
      collect() {
        this.reset();
        for (const stats of source.machine.list()) {
          for (const state of ['ready', 'inflight', 'delayed'] as const) this.set({ queue: stats.name, state, node: source.id }, stats[state]);
        }
      },
    });
  }

  /**
   * Labels come from fixed sets: an op or code a client made up is counted as `other`, so that no
   * client can add series to /metrics (each label value is a series kept for the node's life).
   */
  observe(op: string, code: string, seconds: number): void {
    const opLabel = METRIC_OPS.has(op) ? op : 'other';
    const codeLabel = code === 'OK' || ERROR_CODES.has(code) ? code : 'other';
    this.requests.inc({ op: opLabel, code: codeLabel });
    this.requestSeconds.observe({ op: opLabel }, seconds);
  }
}
