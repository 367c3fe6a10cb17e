import { DEFAULT_NODE_OPTIONS, type NodeOptions } from '../server/node/node-options.ts';

/**
 * Every setting of a node, once: its flag, its `QUORUMQ_*` environment variable (the flag's name in
 * capitals), its key in a `--config` JSON file (the `NodeOptions` key), its type, range and help.
 * The parser (`node-config.ts`), `--help` and the README's table are all made from this one table,
 * so a setting cannot exist in one of them and be missing from another.
 */
export type NodeConfig = NodeOptions & {
  /** pino's level; the runner's, not the node's. */
  readonly logLevel: string;
};

export type SettingKey = keyof NodeConfig;

/**
 * How a value is written. `mebibytes`: a whole number of MiB on the command line and in the
 * environment (the flag's name ends in `-mb`), but bytes in the file, whose key ends in `Bytes`.
 */
export type SettingKind = 'integer' | 'mebibytes' | 'string' | 'boolean' | 'list' | 'queues';

/** The kinds that can hold a value of type `V`: the table below cannot give `tickMs` a list. */
type KindFor<V> = [V] extends [boolean]
  ? 'boolean'
  : [V] extends [number]
    ? 'integer' | 'mebibytes'
    : [V] extends [readonly string[]]
      ? 'list'
      : [V] extends [string | undefined]
        ? 'string'
        : 'queues';

/** Where a setting may come from: everywhere, or only one place. */
export type SettingSources = 'all' | 'flag-only' | 'file-only';

interface SettingSpec<Kind extends SettingKind> {
  readonly kind: Kind;
  /** Without the dashes; the file-only setting has none. */
  readonly flag?: string;
  readonly sources?: SettingSources;
  /** What the help shows after the flag: `N`, `H`, `DIR`... */
  readonly placeholder?: string;
  /** Inclusive bounds, in the unit the flag takes (MiB for `mebibytes`). */
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /**
   * The default as the docs show it. Left out, it is read from the defaults themselves;
   * `cluster` defaults come from cluster/defaults.json, which the package ships.
   */
  readonly defaultText?: string;
  readonly defaultFrom?: 'cluster';
  readonly help: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Listed in the order `--help` and the README show them: placement first, then Raft, limits, security, tests. */
export const NODE_SETTINGS: { readonly [K in SettingKey]-?: SettingSpec<KindFor<NodeConfig[K]>> } = {
  port: {
    kind: 'integer',
    flag: 'port',
    placeholder: 'N',
    min: 1,
    max: 65535,
    defaultText: 'required',
    help: 'HTTP, client WebSockets (/ws) and peer links (/peer) all on this port',
  },
  host: { kind: 'string', flag: 'host', placeholder: 'H', defaultFrom: 'cluster', help: 'interface to listen on' },
  advertiseHost: {
    kind: 'string',
    flag: 'advertise-host',
    placeholder: 'H',
    defaultText: 'the host',
    help: 'host that peers and clients use to reach this node; required when the host is 0.0.0.0 or ::',
  },
  advertisePort: {
    kind: 'integer',
    flag: 'advertise-port',
    placeholder: 'N',
    min: 1,
    max: 65535,
    defaultText: 'the port',
    help: 'port that peers and clients use to reach this node, when a NAT or a container maps it to another',
  },
  dataDir: {
    kind: 'string',
    flag: 'data-dir',
    placeholder: 'DIR',
    defaultText: 'data/node-<port>',
    help: 'where this node keeps its data (relative to the current directory)',
  },
  seeds: { kind: 'list', flag: 'seeds', placeholder: 'h:p,h:p', defaultFrom: 'cluster', help: 'nodes to contact at start' },
  bootstrapExpect: {
    kind: 'integer',
    flag: 'bootstrap-expect',
    placeholder: 'K',
    min: 0,
    max: 7,
    defaultFrom: 'cluster',
    help: 'found a new cluster once K blank nodes know each other (1 = single node; 0 = only join one)',
  },
  forceNewCluster: {
    kind: 'boolean',
    flag: 'force-new-cluster',
    help: 'disaster recovery, for ONE start: this node alone becomes a new single-voter cluster from its own data, under a new identity, after losing a majority for good (docs/operations.md); remove the flag afterwards',
  },
  tickMs: { kind: 'integer', flag: 'tick-ms', placeholder: 'N', min: 5, max: 1000, help: 'length of one Raft tick; a leader sends heartbeats every tick' },
  electionTicks: {
    kind: 'integer',
    flag: 'election-ticks',
    placeholder: 'N',
    min: 2,
    max: 1000,
    help: 'ticks without a leader before an election (randomized up to twice)',
  },
  requestTimeoutMs: {
    kind: 'integer',
    flag: 'request-timeout-ms',
    placeholder: 'N',
    min: 100,
    max: 10 * MINUTE_MS,
    help: 'a write not committed after this long answers 504 TIMEOUT (must exceed the election timeout)',
  },
  leaderWaitMs: {
    kind: 'integer',
    flag: 'leader-wait-ms',
    placeholder: 'N',
    min: 0,
    max: 10 * MINUTE_MS,
    help: 'how long a request waits for a leader during an election before 503 NO_LEADER',
  },
  healthLagEntriesMax: {
    kind: 'integer',
    flag: 'health-lag-entries-max',
    placeholder: 'N',
    min: 0,
    max: 100_000_000,
    help: 'committed entries this node may lag in applying and still report healthy',
  },
  votersMax: { kind: 'integer', flag: 'voters-max', placeholder: 'N', min: 1, max: 9, help: 'voters the autopilot grows the cluster to (odd counts kept)' },
  deadRemoveAfterMs: {
    kind: 'integer',
    flag: 'dead-remove-after-ms',
    placeholder: 'N',
    min: 0,
    max: 30 * DAY_MS,
    help: 'remove a member dead this long from the configuration (0: never)',
  },
  stabilizationMs: {
    kind: 'integer',
    flag: 'stabilization-ms',
    placeholder: 'N',
    min: 0,
    max: DAY_MS,
    help: 'a learner must stay alive and caught up this long before it votes',
  },
  gossipTickMs: {
    kind: 'integer',
    flag: 'gossip-tick-ms',
    placeholder: 'N',
    min: 10,
    max: 10_000,
    help: 'one gossip tick; members are probed every 10 ticks',
  },
  autopilotIntervalMs: {
    kind: 'integer',
    flag: 'autopilot-interval-ms',
    placeholder: 'N',
    min: 10,
    max: 10 * MINUTE_MS,
    help: "how often the leader's autopilot considers a membership change",
  },
  snapshotEntries: {
    kind: 'integer',
    flag: 'snapshot-entries',
    placeholder: 'N',
    min: 10,
    max: 100_000_000,
    help: 'applied entries between snapshots; older log is deleted',
  },
  snapshotBytes: {
    kind: 'integer',
    flag: 'snapshot-bytes',
    placeholder: 'N',
    min: 64 * 1024,
    max: 16 * 1024 * 1024 * 1024,
    help: 'applied log bytes between snapshots, whichever of entries and bytes comes first',
  },
  memoryBudgetBytes: {
    kind: 'mebibytes',
    flag: 'memory-budget-mb',
    placeholder: 'N',
    min: 1,
    max: 1024 * 1024,
    help: 'message bytes all queues together may hold (each replica keeps them in memory); beyond it, 429 QUEUE_FULL',
  },
  diskReserveBytes: {
    kind: 'mebibytes',
    flag: 'disk-reserve-mb',
    placeholder: 'N',
    min: 0,
    max: 1024 * 1024,
    help: "free space the data directory's disk must keep; below it the node stops acknowledging until space returns",
  },
  diskStallMs: {
    kind: 'integer',
    flag: 'disk-stall-ms',
    placeholder: 'N',
    min: 1,
    max: 10 * MINUTE_MS,
    help: 'a synced write still unfinished after this long counts as a failed disk (must exceed the election timeout)',
  },
  pendingProposalsMax: {
    kind: 'integer',
    flag: 'pending-proposals-max',
    placeholder: 'N',
    min: 1,
    max: 10_000_000,
    help: 'writes waiting to commit on the leader; beyond it, 503 OVERLOADED',
  },
  forwardsInFlightMax: {
    kind: 'integer',
    flag: 'forwards-in-flight-max',
    placeholder: 'N',
    min: 1,
    max: 10_000_000,
    help: 'requests a node has forwarded to the leader and awaits answers to; beyond it, 503 OVERLOADED',
  },
  inputBacklogMax: {
    kind: 'integer',
    flag: 'input-backlog-max',
    placeholder: 'N',
    min: 1,
    max: 10_000_000,
    help: 'inputs queued for the Raft core beyond which peer sockets stop being read (backpressure)',
  },
  peerFrameBytesMax: {
    kind: 'integer',
    flag: 'peer-frame-bytes-max',
    placeholder: 'N',
    // A peer must carry the largest entry a client may write (a 16 MiB batch) with room to spare.
    min: 32 * 1024 * 1024,
    max: 1024 * 1024 * 1024,
    help: 'largest frame a peer may send; the same on every node',
  },
  peerSendBufferBytesMax: {
    kind: 'integer',
    flag: 'peer-send-buffer-bytes-max',
    placeholder: 'N',
    min: 1024 * 1024,
    max: 1024 * 1024 * 1024,
    help: 'bytes queued on one peer link beyond which frames to that peer are dropped (Raft sends them again)',
  },
  clientFrameBytesMax: {
    kind: 'integer',
    flag: 'client-frame-bytes-max',
    placeholder: 'N',
    min: 1024 * 1024,
    max: 1024 * 1024 * 1024,
    help: 'largest WebSocket frame a client may send',
  },
  clientConnectionsMax: {
    kind: 'integer',
    flag: 'client-connections-max',
    placeholder: 'N',
    min: 1,
    max: 1_000_000,
    help: 'client WebSockets open at once',
  },
  connectionsMax: {
    kind: 'integer',
    flag: 'connections-max',
    placeholder: 'N',
    min: 1,
    max: 1_000_000,
    help: 'TCP connections to the port at once (clients, peers and HTTP together)',
  },
  connectionsPerAddressMax: {
    kind: 'integer',
    flag: 'connections-per-address-max',
    placeholder: 'N',
    min: 1,
    max: 1_000_000,
    help: 'the same from one remote address',
  },
  requestBufferBytesMax: {
    kind: 'mebibytes',
    flag: 'request-buffer-mb',
    placeholder: 'N',
    min: 1,
    max: 1024 * 1024,
    help: 'HTTP request bodies all clients together may have in flight; beyond it, new bodies are refused with 503',
  },
  headersTimeoutMs: {
    kind: 'integer',
    flag: 'headers-timeout-ms',
    placeholder: 'N',
    min: 100,
    max: 10 * MINUTE_MS,
    help: 'a request whose headers have not all arrived after this long is dropped (slow senders)',
  },
  requestReceiveTimeoutMs: {
    kind: 'integer',
    flag: 'request-receive-timeout-ms',
    placeholder: 'N',
    min: 100,
    max: 60 * MINUTE_MS,
    help: 'a request whose body has not all arrived after this long is dropped',
  },
  clusterKeyFile: {
    kind: 'string',
    flag: 'cluster-key-file',
    placeholder: 'F',
    help: 'shared secret(s) of the cluster, one per line (first offered, all accepted): peers prove they hold one before they are heard (required beyond loopback)',
  },
  authFile: {
    kind: 'string',
    flag: 'auth-file',
    placeholder: 'F',
    help: 'client tokens (JSON; see docs/operations.md "Security"): requests need a Bearer token',
  },
  tlsCertFile: {
    kind: 'string',
    flag: 'tls-cert',
    placeholder: 'F',
    help: "this node's certificate: HTTPS and WSS on the same port, peer links mutual TLS (with --tls-key and --tls-ca)",
  },
  tlsKeyFile: { kind: 'string', flag: 'tls-key', placeholder: 'F', help: "the certificate's private key" },
  tlsCaFile: { kind: 'string', flag: 'tls-ca', placeholder: 'F', help: "the CA that signs every node's certificate, which peers check" },
  allowedHosts: {
    kind: 'list',
    flag: 'allowed-hosts',
    placeholder: 'h,h',
    help: 'host names browsers may use to reach this node, besides loopback names, the host and the advertised host',
  },
  insecure: { kind: 'boolean', flag: 'insecure', help: 'listen beyond loopback without a cluster key (a network you trust)' },
  logLevel: {
    kind: 'string',
    flag: 'log-level',
    placeholder: 'L',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    help: 'how much the node logs (JSON lines on stdout)',
  },
  queues: {
    kind: 'queues',
    sources: 'file-only',
    defaultText: 'none',
    help: 'queues to configure once the node knows a leader: {"name": {the body of PUT /queues/:q}}; configure is idempotent, so every node applies them',
  },
  enableFaultInjection: { kind: 'boolean', flag: 'enable-fault-injection', help: 'allow the fault-injection admin routes (for the chaos tooling)' },
  testPowerLoss: {
    kind: 'boolean',
    flag: 'test-power-loss',
    sources: 'flag-only',
    help: 'tests only: journal every write; SIGUSR2 then loses what no fsync covered and kills the node',
  },
};

/** One row of the table, with what the table leaves implied spelled out. */
export interface NodeSetting {
  readonly key: SettingKey;
  readonly kind: SettingKind;
  /** `--flag`, or undefined for the file-only setting. */
  readonly flag: string | undefined;
  /** `QUORUMQ_*`, or undefined when the environment cannot set it. */
  readonly env: string | undefined;
  /** The file's key, or undefined when the file cannot set it. */
  readonly fileKey: string | undefined;
  readonly placeholder: string | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly choices: readonly string[] | undefined;
  readonly defaultText: string | undefined;
  readonly defaultFrom: 'cluster' | undefined;
  readonly help: string;
}

/** A flag's variable: `--disk-stall-ms` is `QUORUMQ_DISK_STALL_MS`. */
export function envNameOf(flag: string): string {
  return `QUORUMQ_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export const NODE_SETTING_LIST: readonly NodeSetting[] = (Object.keys(NODE_SETTINGS) as SettingKey[]).map((key) => {
  const spec: SettingSpec<SettingKind> = NODE_SETTINGS[key];
  const sources = spec.sources ?? 'all';
  const flag = spec.flag === undefined ? undefined : `--${spec.flag}`;
  return {
    key,
    kind: spec.kind,
    flag,
    env: sources === 'all' && spec.flag !== undefined ? envNameOf(spec.flag) : undefined,
    fileKey: sources === 'flag-only' ? undefined : key,
    placeholder: spec.placeholder,
    min: spec.min,
    max: spec.max,
    choices: spec.choices,
    defaultText: spec.defaultText,
    defaultFrom: spec.defaultFrom,
    help: spec.help,
  };
});

/**
 * What a setting is when no source names it, besides cluster/defaults.json's host, seeds and
 * bootstrap count, and those derived from another setting (the advertised address, the data folder).
 */
export const BUILT_IN_DEFAULTS: Omit<NodeConfig, 'port' | 'advertiseHost' | 'advertisePort' | 'dataDir' | 'seeds'> = {
  ...DEFAULT_NODE_OPTIONS,
  logLevel: 'info',
};

/** The variable that names the config file, when `--config` does not. */
export const CONFIG_FILE_ENV = 'QUORUMQ_CONFIG';

/**
 * `QUORUMQ_*` variables that are not node settings, which a node's environment may well hold: a
 * node ignores them instead of refusing them as misspelt settings.
 */
export const OTHER_QUORUMQ_VARIABLES: readonly string[] = [
  // Crash points for tests (src/storage/failpoints.ts), read by the node itself.
  'QUORUMQ_FAILPOINTS',
  // A skewed clock for tests with --enable-fault-injection (src/server/clocks/node-clock.ts).
  'QUORUMQ_CLOCK_OFFSET_MS',
  'QUORUMQ_CLOCK_DRIFT_PPM',
  // The operator commands' defaults (src/cli/operator-commands.ts): an operator's shell often has them.
  'QUORUMQ_SERVER',
  'QUORUMQ_TOKEN',
  'QUORUMQ_CA',
];

/** Prefixes of test tooling's variables, which nodes started by that tooling inherit. */
export const OTHER_QUORUMQ_PREFIXES: readonly string[] = ['QUORUMQ_FUZZ_'];
