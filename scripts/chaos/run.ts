// npm run chaos -- --nodes 3|5 --duration S --seed N [--faults kill,pause,partition,restart] [--secure] [--no-queue-pauses] [--no-dead-letters] [--no-promotes]
// (also wipe, powerloss and powerloss-all: the last two start the nodes with --test-power-loss)
// --secure: the nodes run with a cluster key, an auth file and TLS (throwaway files in the run's
// data folder); every client, the nemesis and the final reads use the CA and the admin token.
// Starts a fresh cluster, runs producers and consumers against random nodes while a seeded nemesis
// injects faults and an operator pauses and resumes the queue, heals everything, drains the queue
// and checks the history. Exits non-zero on any
// loss or other violation. The whole history and the result go to chaos-results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster, REPO_ROOT } from '../../cluster/local-cluster.ts';
import { makeSecureSetup } from '../../cluster/secure-setup.ts';
import { Prng } from '../../src/shared/index.ts';
import { ownedCluster } from '../fault/cluster-handle.ts';
import { admin, findLeader } from '../fault/network-faults.ts';
import { HistoryRecorder } from './history.ts';
import { FAULT_KINDS, type FaultKind, type FaultRecord, Nemesis, POWER_FAULTS } from './nemesis.ts';
import { httpCall } from './outcome.ts';
import { checkQueueHistory, summarize } from './queue-checker.ts';
import { CHAOS_MAX_DELIVERIES, Workload } from './workload.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    duration: { type: 'string', default: '60' },
    seed: { type: 'string' },
    faults: { type: 'string', default: 'kill,pause,partition,restart' },
    producers: { type: 'string', default: '4' },
    consumers: { type: 'string', default: '3' },
    'drain-seconds': { type: 'string', default: '90' },
    secure: { type: 'boolean', default: false },
    /** Without it, an operator pauses and resumes the queue now and then during the run. */
    'no-queue-pauses': { type: 'boolean', default: false },
    /** Without it, the queue dead-letters on a second delivery and the operator redrives the dead letters. */
    'no-dead-letters': { type: 'boolean', default: false },
    /** Without it, the operator enqueues values delayed by an hour and promotes them (and the drain promotes the rest). */
    'no-promotes': { type: 'boolean', default: false },
    /** Where to write the history and result (default: a new file under chaos-results/). */
    out: { type: 'string' },
  },
});

const nodeCount = Number(values.nodes);
const durationMs = Number(values.duration) * 1000;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const faults = values.faults.split(',').filter((fault) => fault !== '') as FaultKind[];
for (const fault of faults) if (!FAULT_KINDS.includes(fault)) fail(`unknown fault ${fault}; known: ${FAULT_KINDS.join(', ')}`);
if (![3, 5].includes(nodeCount) || !(durationMs > 0)) fail('--nodes must be 3 or 5 and --duration positive');

const QUEUE = 'chaos';
const TICK_MS = 50;
const ELECTION_TICKS = 10;
const VISIBILITY_MS = 3000;
const started = performance.now();
const clock = () => performance.now() - started;
const log = (line: string) => console.log(`[${(clock() / 1000).toFixed(1).padStart(6)}s] ${line}`);

const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-chaos-'));
const secure = values.secure === true;
const deadLetters = values['no-dead-letters'] !== true;
// Beside the nodes' folders, so a wiped node keeps the cluster key, auth file and certificates.
const setup = await makeSecureSetup(join(dataRoot, 'secure'), { clusterKey: secure, auth: secure, tls: secure });
const access = setup.access;
const powerArgs = faults.some((fault) => POWER_FAULTS.includes(fault)) ? ['--test-power-loss'] : [];
const startFindings = { powerCutsUndone: 0, recoveries: 0, repairs: 0 };
/** Per port: start-up reports of damage found on disk (power cuts that lost nothing aside). */
const findingsByPort = new Map<number, number>();
// Snapshots every 300 entries instead of 10,000: compaction, snapshot crash points and installs
// happen within a run.
const cluster = new LocalCluster({
  ports: await freePorts(nodeCount),
  dataRoot,
  extraArgs: ['--enable-fault-injection', '--log-level', 'warn', '--snapshot-entries', '300', ...powerArgs, ...setup.nodeArgs],
  onLine: (port, line) => {
    reportNodeErrors(port, line);
    countStartFindings(port, line);
  },
});
let exitCode = 1;
try {
  exitCode = await runChaos();
} finally {
  await cluster.stopAll('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}
process.exit(exitCode);

async function runChaos(): Promise<number> {
  log(`chaos: ${nodeCount} nodes, ${durationMs / 1000} s, seed ${seed}, faults ${faults.join(',')}${secure ? ', secure (cluster key, auth, TLS)' : ''}`);
  cluster.startAll();
  const addresses = cluster.nodes.map((node) => node.address);
  await until(async () => (await findLeader(addresses, access)) !== undefined, 30_000, 'a first leader');
  // The nemesis shrugs off a failed fault call (its target may be down), so a node refusing the
  // fault routes (no token, a token without admin) would make a run without faults: fail first.
  await Promise.all(addresses.map((address) => admin(address, '/admin/faults/heal', {}, access)));
  const prng = new Prng(seed);
  const recorder = new HistoryRecorder(clock);
  const workload = new Workload({
    addresses,
    recorder,
    prng: new Prng(seed + 1),
    queue: QUEUE,
    producers: Number(values.producers),
    consumers: Number(values.consumers),
    abandonPercent: 5,
    visibilityMs: VISIBILITY_MS,
    requestTimeoutMs: 5000,
    access,
    queuePauses: values['no-queue-pauses'] !== true,
    deadLetters,
    promotes: values['no-promotes'] !== true,
  });
  const nemesis = new Nemesis({
    cluster: ownedCluster(cluster, access),
    prng,
    faults,
    electionTimeoutMs: TICK_MS * ELECTION_TICKS,
    log,
    startFindings: (index) => findingsByPort.get(cluster.nodes[index]!.port) ?? 0,
  });
  if (deadLetters) await configureDeadLetters(addresses);
  workload.start();
  const progress = setInterval(
    () => log(`enqueued ${workload.counts.enqueued}, delivered ${workload.counts.delivered}, acked ${workload.counts.acked}; fault: ${nemesis.current}`),
    5000,
  );
  await nemesis.run(durationMs, clock);
  await nemesis.healEverything();
  log('faults healed; producers stop, consumers drain');
  workload.stopProducing();
  await workload.stopOperating();
  const drained = await drain(addresses, workload);
  clearInterval(progress);
  await workload.stop();
  const result = checkQueueHistory(recorder.history, { drained, strictOrder: false, visibilityMs: VISIBILITY_MS, everyValueAcked: deadLetters });
  if (deadLetters) log(`dead letters: ${workload.counts.redriven} redriven back to the queue`);
  if (values['no-promotes'] !== true) log(`promotes: ${workload.counts.promoted} delayed messages made ready`);
  console.log(summarize(result));
  log(
    `at restarts: ${startFindings.powerCutsUndone} power cuts undid unsynced writes, ${startFindings.recoveries} nodes started recovering, ${startFindings.repairs} other storage repairs`,
  );
  const faultSummary = summarizeFaults(nemesis.record);
  for (const line of faultSummary) log(line);
  // Liveness: a node that stays unwell a minute after its fault was lifted is a failure too.
  const unrepaired = nemesis.record.filter((fault) => fault.repairMs === null);
  if (unrepaired.length > 0)
    log(
      `violation: ${unrepaired.length} faults left a node unhealthy for over a minute: ${unrepaired.map((fault) => `${fault.kind} ${fault.target}`).join(', ')}`,
    );
  writeResults({
    seed,
    nodeCount,
    durationMs,
    faults,
    secure,
    drained,
    result,
    faultSummary,
    unrepaired: unrepaired.length,
    nemesis: nemesis.record,
    history: recorder.history,
  });
  return result.valid && unrepaired.length === 0 ? 0 : 1;
}

/** Drained: the queue is empty by linearizable reads twice in a row, a second apart. */
/** The chaos queue dead-letters a message on its second delivery without an ack (retried until a node takes it). */
async function configureDeadLetters(addresses: readonly string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const reply = await httpCall(addresses[attempt % addresses.length]!, 'PUT', `/queues/${QUEUE}`, { maxDeliveries: CHAOS_MAX_DELIVERIES }, 5000, access);
    if (reply.code === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function drain(addresses: readonly string[], workload: Workload): Promise<boolean> {
  const deadline = clock() + Number(values['drain-seconds']) * 1000;
  let emptyInARow = 0;
  // Any node will do: one that a fault left unable to serve must not make a drained queue look full.
  for (let attempt = 0; clock() < deadline; attempt++) {
    const reply = await httpCall(addresses[attempt % addresses.length]!, 'GET', `/queues/${QUEUE}`, undefined, 5000, access);
    const stats = reply.body as { ready: number; inflight: number; delayed: number } | undefined;
    // Dead letters go back to the queue, to be consumed like the rest: drained means both are empty.
    const noDeadLetters = !deadLetters || (await workload.redrive(addresses[attempt % addresses.length]!));
    if (values['no-promotes'] !== true) await workload.promoteDelayed(addresses[attempt % addresses.length]!);
    const empty = reply.code === undefined && stats !== undefined && stats.ready + stats.inflight + stats.delayed === 0 && noDeadLetters;
    emptyInARow = empty ? emptyInARow + 1 : 0;
    if (emptyInARow >= 2) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

/** What restarted nodes said about their disks (they log it at warn level). */
/** Errors a node prints (failed starts, fatal errors, data lost) are the first thing to read when a run goes wrong. */
function reportNodeErrors(port: number, line: string): void {
  if (line.startsWith('quorumq:') || /"level":(50|60)/.test(line) || line.includes('recovering: this node lost data'))
    log(`node ${port}: ${line.slice(0, 900)}`);
}

function countStartFindings(port: number, line: string): void {
  const damagedSnapshots = line.includes('damaged snapshots skipped');
  if (!line.includes('"findings"') && !damagedSnapshots) return;
  const { findings = [] } = JSON.parse(line.slice(line.indexOf('{'))) as { findings?: string[] };
  const lostWrites = findings.some((finding) => finding.startsWith('simulated power cut') && !finding.includes(': 0 LevelDB keys and 0 mark'));
  if (lostWrites) startFindings.powerCutsUndone++;
  const damage = findings.some((finding) => !finding.startsWith('simulated power cut'));
  if (line.includes('recovering: this node lost data')) startFindings.recoveries++;
  else if (damage || damagedSnapshots) startFindings.repairs++;
  if (lostWrites || damage || damagedSnapshots) findingsByPort.set(port, (findingsByPort.get(port) ?? 0) + 1);
}

/** Per fault kind: injections, how many the cluster noticed, and the time to repair (median, max). */
function summarizeFaults(record: readonly FaultRecord[]): string[] {
  const kinds = [...new Set(record.map((fault) => fault.kind))];
  return kinds.map((kind) => {
    const of = record.filter((fault) => fault.kind === kind);
    const detectable = of.filter((fault) => fault.detected !== undefined);
    const repairs = of
      .map((fault) => fault.repairMs)
      .filter((ms): ms is number => ms !== null)
      .sort((a, b) => a - b);
    const unrepaired = of.length - repairs.length;
    const detections = detectable.length === 0 ? 'n/a' : `${detectable.filter((fault) => fault.detected).length}/${detectable.length}`;
    const median = repairs.length === 0 ? 'n/a' : `${repairs[Math.floor((repairs.length - 1) / 2)]} ms`;
    return `fault ${kind}: ${of.length} injected, detected ${detections}, repair median ${median}, max ${repairs.at(-1) ?? 'n/a'} ms${unrepaired > 0 ? `, ${unrepaired} not repaired` : ''}`;
  });
}

function writeResults(report: Record<string, unknown>): void {
  const folder = join(REPO_ROOT, 'chaos-results');
  mkdirSync(folder, { recursive: true });
  const file = values.out ?? join(folder, `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}.json`);
  writeFileSync(file, JSON.stringify(report));
  log(`history and result written to ${file}`);
}

async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = clock() + timeoutMs;
  while (!(await probe())) {
    if (clock() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function fail(message: string): never {
  console.error(`chaos: ${message}`);
  process.exit(2);
}
