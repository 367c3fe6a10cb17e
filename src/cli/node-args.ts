import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_OPTIONS, type NodeOptions, validateNodeOptions } from '../server/node/node-options.ts';
import { clusterDefaults } from './cluster-defaults.ts';
import { UsageError } from './usage-error.ts';

export { clusterDefaults, UsageError };

export const NODE_USAGE = `usage: quorumq node --port N [options]     (from a checkout: npm run node -- --port N [options])
  --host H                  interface to listen on (default from cluster/defaults.json)
  --advertise-host H        host that peers and clients use to reach this node (default: --host)
  --data-dir DIR            where this node keeps its data (default data/node-<port> in the current directory)
  --seeds h:p,h:p           nodes to contact at start (default from cluster/defaults.json)
  --bootstrap-expect K      found a new cluster once K blank nodes know each other (default 3; 1 = single node)
  --tick-ms N               length of one Raft tick (default 50)
  --election-ticks N        ticks without a leader before an election (default 10)
  --voters-max N            voters the autopilot grows the cluster to (default 5; odd counts kept)
  --dead-remove-after-ms N  remove a member dead this long from the configuration (default 60000; 0 never)
  --stabilization-ms N      a learner must stay caught up this long before it votes (default 3000)
  --memory-budget-mb N      message bytes all queues may hold, in MiB (default 1024); beyond it, 429 QUEUE_FULL
  --disk-reserve-mb N       free space the data directory's disk must keep, in MiB (default 32); below it
                            the node stops acknowledging until space returns
  --disk-stall-ms N         a synced write still unfinished after this long counts as a failed disk
                            (default 2000; must exceed the election timeout)
  --snapshot-entries N      applied entries between snapshots; older log is deleted (default 10000)
  --cluster-key-file F      shared secret(s) of the cluster, one per line (first offered, all accepted):
                            peers prove they hold one before they are heard (required beyond loopback)
  --auth-file F             client tokens (JSON; see README "Security"): requests need a Bearer token
  --tls-cert F --tls-key F --tls-ca F
                            HTTPS and WSS on the same port; peer links use mutual TLS against the CA
  --allowed-hosts h,h       host names browsers may use to reach this node, besides loopback names,
                            --host and --advertise-host (a page served from any other name is refused)
  --insecure                listen beyond loopback without a cluster key (a network you trust)
  --connections-max N       TCP connections to the port at once (default 20000)
  --connections-per-address-max N
                            the same from one remote address (default 2000)
  --request-buffer-mb N     MiB of HTTP request bodies all clients together may have in flight
                            (default 256); beyond it, new bodies are refused with 503
  --force-new-cluster       disaster recovery, for ONE start: this node alone becomes a new cluster from its
                            own data, under a new identity (docs/operations.md); remove the flag afterwards
  --log-level L             fatal, error, warn, info, debug, trace (default info)
  --enable-fault-injection  allow the fault-injection admin routes
  --test-power-loss         tests only: journal every write; SIGUSR2 then loses what no fsync covered and kills the node
  environment: QUORUMQ_FAILPOINTS=name=crash[@N],...  crash points for tests (see src/storage/failpoints.ts)`;

export function parseNodeArgs(argv: string[], root: string): { options: NodeOptions; logLevel: string } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'advertise-host': { type: 'string' },
      'data-dir': { type: 'string' },
      seeds: { type: 'string' },
      'bootstrap-expect': { type: 'string' },
      'tick-ms': { type: 'string' },
      'election-ticks': { type: 'string' },
      'voters-max': { type: 'string' },
      'dead-remove-after-ms': { type: 'string' },
      'stabilization-ms': { type: 'string' },
      'snapshot-entries': { type: 'string' },
      'memory-budget-mb': { type: 'string' },
      'disk-reserve-mb': { type: 'string' },
      'disk-stall-ms': { type: 'string' },
      'cluster-key-file': { type: 'string' },
      'auth-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'allowed-hosts': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'connections-max': { type: 'string' },
      'connections-per-address-max': { type: 'string' },
      'request-buffer-mb': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'enable-fault-injection': { type: 'boolean', default: false },
      'test-power-loss': { type: 'boolean', default: false },
      'force-new-cluster': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) throw new UsageError('');
  if (values.port === undefined) throw new UsageError('--port is required');
  const defaults = clusterDefaults(root);
  const port = integer(values.port, '--port');
  const host = values.host ?? defaults.host;
  const options: NodeOptions = {
    ...DEFAULT_NODE_OPTIONS,
    host,
    advertiseHost: values['advertise-host'] ?? host,
    port,
    // The current directory, not the package's: an installed package's own folder is no place for data.
    dataDir: values['data-dir'] ?? resolve('data', `node-${port}`),
    seeds: values.seeds === undefined ? defaults.seeds : values.seeds.split(',').filter((seed) => seed !== ''),
    bootstrapExpect: values['bootstrap-expect'] === undefined ? defaults.bootstrapExpect : integer(values['bootstrap-expect'], '--bootstrap-expect'),
    tickMs: optionalInteger(values['tick-ms'], '--tick-ms', DEFAULT_NODE_OPTIONS.tickMs),
    electionTicks: optionalInteger(values['election-ticks'], '--election-ticks', DEFAULT_NODE_OPTIONS.electionTicks),
    enableFaultInjection: values['enable-fault-injection'] === true,
    testPowerLoss: values['test-power-loss'] === true,
    forceNewCluster: values['force-new-cluster'] === true,
    votersMax: optionalInteger(values['voters-max'], '--voters-max', DEFAULT_NODE_OPTIONS.votersMax),
    deadRemoveAfterMs: optionalInteger(values['dead-remove-after-ms'], '--dead-remove-after-ms', DEFAULT_NODE_OPTIONS.deadRemoveAfterMs),
    stabilizationMs: optionalInteger(values['stabilization-ms'], '--stabilization-ms', DEFAULT_NODE_OPTIONS.stabilizationMs),
    memoryBudgetBytes: optionalInteger(values['memory-budget-mb'], '--memory-budget-mb', DEFAULT_NODE_OPTIONS.memoryBudgetBytes / 1048576) * 1048576,
    diskReserveBytes: optionalInteger(values['disk-reserve-mb'], '--disk-reserve-mb', DEFAULT_NODE_OPTIONS.diskReserveBytes / 1048576) * 1048576,
    diskStallMs: optionalInteger(values['disk-stall-ms'], '--disk-stall-ms', DEFAULT_NODE_OPTIONS.diskStallMs),
    snapshotEntries: optionalInteger(values['snapshot-entries'], '--snapshot-entries', DEFAULT_NODE_OPTIONS.snapshotEntries),
    clusterKeyFile: values['cluster-key-file'],
    authFile: values['auth-file'],
    tlsCertFile: values['tls-cert'],
    tlsKeyFile: values['tls-key'],
    tlsCaFile: values['tls-ca'],
    allowedHosts: values['allowed-hosts'] === undefined ? [] : values['allowed-hosts'].split(',').filter((host) => host !== ''),
    insecure: values.insecure === true,
    connectionsMax: optionalInteger(values['connections-max'], '--connections-max', DEFAULT_NODE_OPTIONS.connectionsMax),
    connectionsPerAddressMax: optionalInteger(
      values['connections-per-address-max'],
      '--connections-per-address-max',
      DEFAULT_NODE_OPTIONS.connectionsPerAddressMax,
    ),
    requestBufferBytesMax: optionalInteger(values['request-buffer-mb'], '--request-buffer-mb', DEFAULT_NODE_OPTIONS.requestBufferBytesMax / 1048576) * 1048576,
  };
  validateNodeOptions(options);
  return { options, logLevel: values['log-level'] ?? 'info' };
}

function optionalInteger(text: string | undefined, flag: string, fallback: number): number {
  return text === undefined ? fallback : integer(text, flag);
}

function integer(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new UsageError(`${flag} must be an integer`);
  return value;
}
