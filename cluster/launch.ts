// `npm run cluster [-- --nodes 5] [-- --base-port 7001] [-- --tls] [-- --auth] [-- --secure] [-- --faults]`:
// a local cluster on this machine, with prefixed, coloured logs. Ctrl-C stops every node cleanly.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ClusterState, ControlServer, STATE_FILE } from './control-server.ts';
import { LocalCluster, REPO_ROOT } from './local-cluster.ts';
import { formatLine } from './log-format.ts';
import { makeSecureSetup } from './secure-setup.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'base-port': { type: 'string', default: '7001' },
    'data-root': { type: 'string', default: join(REPO_ROOT, 'data') },
    faults: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    auth: { type: 'boolean', default: false },
    secure: { type: 'boolean', default: false },
    add: { type: 'boolean', default: false },
  },
});

if (values.add === true) await addToRunningCluster(values['data-root']);
const count = Number(values.nodes);
const basePort = Number(values['base-port']);
if (!Number.isInteger(count) || count < 1 || count > 7) {
  console.error('--nodes must be 1..7');
  process.exit(2);
}
const ports = Array.from({ length: count }, (_, i) => basePort + i);
const color = process.stdout.isTTY === true;
// Fault injection lets anyone who reaches a node break it: on only when asked for.
const faultInjection = values.faults === true;
const secure = values.secure === true;
// Throwaway keys, tokens and certificates in the data folder, for trying the secured setup locally.
const setup = await makeSecureSetup(join(values['data-root'], 'secure'), {
  clusterKey: secure,
  auth: secure || values.auth === true,
  tls: secure || values.tls === true,
});
const extraArgs = [...setup.nodeArgs, ...(faultInjection ? ['--enable-fault-injection'] : [])];
const cluster = new LocalCluster({
  ports,
  dataRoot: values['data-root'],
  extraArgs,
  onLine: (port, line) => console.log(formatLine(port, ports.indexOf(port), line, color)),
});
mkdirSync(values['data-root'], { recursive: true });
cluster.startAll();
const control = new ControlServer(cluster, values['data-root'], extraArgs, { caFile: setup.files.caFile, token: setup.access.token });
await control.listen();
const scheme = setup.access.ca === undefined ? 'http' : 'https';
console.log(`quorumq: starting ${count} nodes (data in ${values['data-root']})`);
for (const port of ports) console.log(`  ${scheme}://127.0.0.1:${port}   ${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`);
if (faultInjection) console.log('Fault injection is on: try `npm run fault -- kill leader` (`npm run fault -- help`)');
const curlFlags = [
  ...(setup.files.caFile === undefined ? [] : [`--cacert ${setup.files.caFile}`]),
  ...(setup.access.token === undefined ? [] : [`-H 'Authorization: Bearer ${setup.access.token}'`]),
].join(' ');
if (setup.access.token !== undefined) console.log(`Admin token (auth file ${setup.files.authFile}): ${setup.access.token}`);
console.log(
  `Try:  curl ${curlFlags === '' ? '' : `${curlFlags} `}-X POST ${scheme}://127.0.0.1:${ports[0]}/queues/jobs/messages -d '{"body":{"hello":"world"}}'`,
);
console.log(`Watch: ${scheme}://127.0.0.1:${ports[0]}/dashboard`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('quorumq: stopping the cluster');
  await cluster.stopAll('SIGTERM');
  control.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

/** `npm run cluster -- --add`: asks the running launcher to start one more node, then exits. */
async function addToRunningCluster(dataRoot: string): Promise<never> {
  const state = JSON.parse(readFileSync(join(dataRoot, STATE_FILE), 'utf8')) as ClusterState;
  const response = await fetch(`http://127.0.0.1:${state.controlPort}/nodes/add`, { method: 'POST' });
  const added = (await response.json()) as { port: number };
  console.log(`quorumq: added a node at http://127.0.0.1:${added.port} (its logs appear in the cluster's terminal)`);
  process.exit(response.ok ? 0 : 1);
}
