import { ClusterError, type QueueConfigInput } from '../../shared/index.ts';

/** Everything a node is started with. Durations in milliseconds; every bound named `...Max`. */
export interface NodeOptions {
  readonly host: string;
  /** The host peers and clients are told to reach this node at. */
  readonly advertiseHost: string;
  readonly port: number;
  /** The port peers and clients are told to reach this node at (a NAT or container mapping); usually `port`. */
  readonly advertisePort: number;
  readonly dataDir: string;
  readonly seeds: readonly string[];
  /** Blank nodes that must find each other before founding a cluster; 0 = join an existing one. */
  readonly bootstrapExpect: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly requestTimeoutMs: number;
  /** How long a request waits for a leader during an election before NO_LEADER. */
  readonly leaderWaitMs: number;
  readonly forwardsInFlightMax: number;
  readonly pendingProposalsMax: number;
  readonly peerFrameBytesMax: number;
  readonly peerSendBufferBytesMax: number;
  readonly clientFrameBytesMax: number;
  readonly clientConnectionsMax: number;
  readonly healthLagEntriesMax: number;
  /** Inputs queued for the core beyond which peer sockets stop being read (backpressure). */
  readonly inputBacklogMax: number;
  readonly enableFaultInjection: boolean;
  /** Tests only: journal writes so that SIGUSR2 cuts the power (unsynced writes lost, then death). */
  readonly testPowerLoss: boolean;
  /** Disaster recovery, for one start: this node alone becomes a new cluster from its own data (see forced-new-cluster.ts). */
  readonly forceNewCluster: boolean;
  /** One gossip tick; the gossip defaults (probe every 10 ticks) assume about 100 ms. */
  readonly gossipTickMs: number;
  /** How often the leader's autopilot considers a membership change. */
  readonly autopilotIntervalMs: number;
  readonly votersMax: number;
  /** A member dead this long is removed from the configuration; 0 never removes. */
  readonly deadRemoveAfterMs: number;
  /** A learner must stay alive and caught up this long before it is promoted. */
  readonly stabilizationMs: number;
  /** Applied entries between snapshots; the log below a snapshot is deleted. */
  readonly snapshotEntries: number;
  /** Applied log bytes between snapshots, whichever of the two comes first. */
  readonly snapshotBytes: number;
  /** Message bytes all queues together may hold (each replica keeps them in memory). */
  readonly memoryBudgetBytes: number;
  /** Below this much free space on the data directory's disk the node stops acknowledging (as if full). */
  readonly diskReserveBytes: number;
  /** A synced write still waiting after this long is treated as a failed disk (see `DiskWatch.checkStall`). */
  readonly diskStallMs: number;
  /** Shared secret(s) of the cluster, one per line: peers prove they hold one before any frame counts. */
  readonly clusterKeyFile: string | undefined;
  /** Client tokens and what each may do (see `access/auth-file.ts`); without it clients are not authenticated. */
  readonly authFile: string | undefined;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly tlsCaFile: string | undefined;
  /** Listen beyond loopback without a cluster key (a network the operator trusts). */
  readonly insecure: boolean;
  /** Host names browsers may reach this node by, besides loopback names, `host` and `advertiseHost`. */
  readonly allowedHosts: readonly string[];
  /** TCP connections to the port at once (clients, peers and HTTP together). */
  readonly connectionsMax: number;
  /** The same, from one remote address. */
  readonly connectionsPerAddressMax: number;
  /** Request bytes all HTTP requests together may hold in memory while they arrive. */
  readonly requestBufferBytesMax: number;
  /** A request whose headers have not all arrived after this long is dropped (slow senders). */
  readonly headersTimeoutMs: number;
  /** A request whose body has not all arrived after this long is dropped. */
  readonly requestReceiveTimeoutMs: number;
  /** Queues configured (idempotently, through the leader) once the node knows a leader: name to config. */
  readonly queues: Readonly<Record<string, QueueConfigInput>>;
}

/** The defaults of everything but where the node is: its port, data and seeds, and the advertised address (the host's and port's). */
export const DEFAULT_NODE_OPTIONS: Omit<NodeOptions, 'port' | 'advertiseHost' | 'advertisePort' | 'dataDir' | 'seeds'> = {
  host: '127.0.0.1',
  bootstrapExpect: 0,
  tickMs: 50,
  electionTicks: 10,
  requestTimeoutMs: 10_000,
  leaderWaitMs: 3_000,
  forwardsInFlightMax: 10_000,
  pendingProposalsMax: 50_000,
  peerFrameBytesMax: 64 * 1024 * 1024,
  peerSendBufferBytesMax: 32 * 1024 * 1024,
  clientFrameBytesMax: 32 * 1024 * 1024,
  clientConnectionsMax: 10_000,
  healthLagEntriesMax: 1000,
  inputBacklogMax: 50_000,
  enableFaultInjection: false,
  testPowerLoss: false,
  forceNewCluster: false,
  gossipTickMs: 100,
  autopilotIntervalMs: 500,
  votersMax: 5,
  deadRemoveAfterMs: 60_000,
  stabilizationMs: 3_000,
  snapshotEntries: 10_000,
  // Two snapshots and the log since the older one stay on disk (a fallback if the newest is damaged),
  // and the log since the newest in memory: 8 MiB keeps the disk within 2 x backlog + 64 MiB (16 MiB
  // came within a few megabytes of that bound behind a 2 MB backlog; see disk-reclaim.test.ts).
  snapshotBytes: 8 * 1024 * 1024,
  memoryBudgetBytes: 1024 * 1024 * 1024,
  diskReserveBytes: 32 * 1024 * 1024,
  // Four election timeouts: the other nodes have elected a new leader by then, and a healthy disk
  // that is merely busy (a snapshot install, a compaction) finishes a write well within it.
  diskStallMs: 2_000,
  clusterKeyFile: undefined,
  authFile: undefined,
  tlsCertFile: undefined,
  tlsKeyFile: undefined,
  tlsCaFile: undefined,
  insecure: false,
  allowedHosts: [],
  connectionsMax: 20_000,
  // One SDK client holds one connection; a thousand processes behind one address is a lot already.
  connectionsPerAddressMax: 2_000,
  // Sixteen of the largest requests (16 MiB) at once; beyond, new bodies wait for room (503, retry).
  requestBufferBytesMax: 256 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestReceiveTimeoutMs: 60_000,
  queues: {},
};

/** Addresses a node may listen on but nobody can dial: "every interface" in IPv4 and IPv6. */
const UNROUTABLE_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::', '[::]']);

export function validateNodeOptions(options: NodeOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) problems.push('port must be 1..65535');
  if (!Number.isInteger(options.advertisePort) || options.advertisePort < 1 || options.advertisePort > 65535) problems.push('advertise-port must be 1..65535');
  if (options.dataDir === '') problems.push('a data directory is required');
  const advertiseProblem = unroutableAdvertiseHost(options);
  if (advertiseProblem !== undefined) problems.push(advertiseProblem);
  if (!Number.isInteger(options.bootstrapExpect) || options.bootstrapExpect < 0 || options.bootstrapExpect > 7) {
    problems.push('bootstrap-expect must be 0..7');
  }
  if (options.tickMs < 5 || options.tickMs > 1000) problems.push('tickMs must be 5..1000');
  for (const seed of options.seeds) if (!/^[^:\s]+:\d{1,5}$/.test(seed)) problems.push(`seed ${seed} is not host:port`);
  // A leader must answer before a forwarded request gives up on it.
  if (options.requestTimeoutMs <= options.tickMs * options.electionTicks) problems.push('requestTimeoutMs must exceed the election timeout');
  if (!Number.isInteger(options.diskStallMs) || options.diskStallMs <= options.tickMs * options.electionTicks || options.diskStallMs > 600_000) {
    problems.push('disk-stall-ms must exceed the election timeout and be at most 600000');
  }
  if (!Number.isSafeInteger(options.diskReserveBytes) || options.diskReserveBytes < 0) problems.push('disk-reserve-mb must be 0 or more');
  if (!Number.isInteger(options.votersMax) || options.votersMax < 1 || options.votersMax > 9) problems.push('voters-max must be 1..9');
  if (!Number.isInteger(options.deadRemoveAfterMs) || options.deadRemoveAfterMs < 0) problems.push('dead-remove-after-ms must be 0 or more');
  if (!Number.isInteger(options.snapshotEntries) || options.snapshotEntries < 10) problems.push('snapshot-entries must be at least 10');
  for (const [name, value] of [
    ['connectionsMax', options.connectionsMax],
    ['connectionsPerAddressMax', options.connectionsPerAddressMax],
    ['requestBufferBytesMax', options.requestBufferBytesMax],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${name} must be a positive integer`);
  }
  if (problems.length > 0) throw new ClusterError('INVALID_CONFIG', problems.join('; '));
}

/**
 * Peers dial, gossip spreads and clients move to the advertised address: one that names every
 * interface reaches nobody, so the node would found or join a cluster that can never call it back.
 */
function unroutableAdvertiseHost(options: NodeOptions): string | undefined {
  if (!UNROUTABLE_HOSTS.has(options.advertiseHost)) return undefined;
  if (options.advertiseHost === options.host) {
    return `--host ${JSON.stringify(options.host)} is where this node listens, not an address others can reach: set --advertise-host to the address peers and clients dial`;
  }
  return `--advertise-host ${JSON.stringify(options.advertiseHost)} is not an address peers and clients can reach: give this node's reachable address`;
}
