import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_OPTIONS, type NodeOptions, validateNodeOptions } from '../server/node-options.ts';

export const NODE_USAGE = `usage: npm run node -- --port N [options]
  --host H                  interface to listen on (default from cluster/defaults.json)
  --advertise-host H        host that peers and clients use to reach this node (default: --host)
  --data-dir DIR            where this node keeps its data (default data/node-<port>)
  --seeds h:p,h:p           nodes to contact at start (default from cluster/defaults.json)
  --bootstrap-expect K      found a new cluster once K blank nodes know each other (default 3; 1 = single node)
  --tick-ms N               length of one Raft tick (default 50)
  --election-ticks N        ticks without a leader before an election (default 10)
  --log-level L             fatal, error, warn, info, debug, trace (default info)
  --enable-fault-injection  allow the fault-injection admin routes`;

interface ClusterDefaults {
  readonly seeds: string[];
  readonly bootstrapExpect: number;
  readonly host: string;
}

/** The defaults that let three terminals with only `--port` form a cluster. */
export function clusterDefaults(root: string): ClusterDefaults {
  return JSON.parse(readFileSync(join(root, 'cluster', 'defaults.json'), 'utf8')) as ClusterDefaults;
}

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
      'log-level': { type: 'string', default: 'info' },
      'enable-fault-injection': { type: 'boolean', default: false },
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
    dataDir: values['data-dir'] ?? join(root, 'data', `node-${port}`),
    seeds: values.seeds === undefined ? defaults.seeds : values.seeds.split(',').filter((seed) => seed !== ''),
    bootstrapExpect: values['bootstrap-expect'] === undefined ? defaults.bootstrapExpect : integer(values['bootstrap-expect'], '--bootstrap-expect'),
    tickMs: values['tick-ms'] === undefined ? DEFAULT_NODE_OPTIONS.tickMs : integer(values['tick-ms'], '--tick-ms'),
    electionTicks: values['election-ticks'] === undefined ? DEFAULT_NODE_OPTIONS.electionTicks : integer(values['election-ticks'], '--election-ticks'),
    enableFaultInjection: values['enable-fault-injection'] === true,
  };
  validateNodeOptions(options);
  return { options, logLevel: values['log-level'] ?? 'info' };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new UsageError(`${flag} must be an integer`);
  return value;
}
