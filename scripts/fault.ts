// Fault injection against a cluster started by `npm run cluster`:
//   npm run fault -- kill <port|leader> [--signal SIGTERM]
//   npm run fault -- pause <port|leader> [--ms N]     (resumes after N ms when given)
//   npm run fault -- resume <port>
//   npm run fault -- restart <port|leader>            (kill -9, then start with its data)
//   npm run fault -- wipe <port|leader>               (kill -9, delete its data, start blank)
//   npm run fault -- truncate <port|leader> [--seed N] (kill -9, cut a data file short, start: the node must notice)
//   npm run fault -- bitflip <port|leader> [--seed N]  (kill -9, flip bits in its data files, start)
//   npm run fault -- partition <port|leader> [--from p1,p2] [--one-way]
//   npm run fault -- heal
//   npm run fault -- leader
// Options: --data-root DIR (default ./data, where npm run cluster keeps its state)
// A cluster started with --secure (or --tls, --auth) is reached with the CA and admin token its
// launcher wrote to the state file; fault injection needs `npm run cluster -- --faults`.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../cluster/local-cluster.ts';
import { Prng } from '../src/shared/index.ts';
import { launchedCluster, type ProcessAction } from './fault/cluster-handle.ts';
import { flipBits, truncateOne } from './fault/disk-faults.ts';
import { findLeader, healAll, partition } from './fault/network-faults.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'data-root': { type: 'string', default: join(REPO_ROOT, 'data') },
    signal: { type: 'string' },
    ms: { type: 'string' },
    from: { type: 'string' },
    'one-way': { type: 'boolean', default: false },
    seed: { type: 'string' },
  },
});

const [command, target] = positionals;
const cluster = launchedCluster(values['data-root']);
const addresses = cluster.addresses;

async function resolve(name: string | undefined): Promise<number> {
  if (name === undefined) throw new Error(`${command} needs a node: a port, or "leader"`);
  const address = name === 'leader' ? await findLeader(addresses, cluster.access) : `127.0.0.1:${name}`;
  const index = addresses.indexOf(address ?? '');
  if (index < 0) throw new Error(name === 'leader' ? 'no leader is known right now' : `no node on port ${name}`);
  return index;
}

async function main(): Promise<void> {
  switch (command) {
    case 'kill':
    case 'pause':
    case 'resume':
    case 'restart':
    case 'wipe': {
      const index = await resolve(target);
      const action: ProcessAction = command === 'kill' && values.signal === 'SIGTERM' ? 'terminate' : command;
      await cluster.act(index, action);
      console.log(`${command} ${addresses[index]}`);
      if (command === 'pause' && values.ms !== undefined) {
        await new Promise((done) => setTimeout(done, Number(values.ms)));
        await cluster.act(index, 'resume');
        console.log(`resume ${addresses[index]} after ${values.ms} ms`);
      }
      return;
    }
    case 'partition': {
      const index = await resolve(target);
      const others = values.from === undefined ? addresses.filter((_, i) => i !== index) : values.from.split(',').map((port) => `127.0.0.1:${port}`);
      await partition(addresses[index]!, others, values['one-way'] === true, cluster.access);
      console.log(`partition ${addresses[index]} from ${others.join(', ')}${values['one-way'] ? ' (one way: its sends are dropped)' : ''}`);
      return;
    }
    case 'truncate':
    case 'bitflip': {
      // Damage only a stopped node's files: a running LevelDB would overwrite or cache them.
      const index = await resolve(target);
      const prng = new Prng(values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed));
      await cluster.act(index, 'kill');
      const dataDir = cluster.dataDir(index);
      const detail = command === 'truncate' ? truncateOne(dataDir, prng) : flipBits(dataDir, prng);
      await cluster.act(index, 'restart');
      console.log(`${command} ${addresses[index]}: ${detail}; restarted (watch /health for "recovering")`);
      return;
    }
    case 'heal':
      await healAll(addresses, cluster.access);
      console.log('healed every partition');
      return;
    case 'leader':
      console.log((await findLeader(addresses, cluster.access)) ?? 'no leader');
      return;
    default:
      console.log('usage: npm run fault -- kill|pause|resume|restart|wipe|truncate|bitflip|partition <port|leader> | heal | leader');
      process.exitCode = command === 'help' || command === undefined ? 0 : 2;
  }
}

main().catch((error: unknown) => {
  console.error(`fault: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
