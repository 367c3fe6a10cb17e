// W1 throughput: 3 nodes, 1 queue; 4 producers (one SDK client each) each keeping at most 256
// single-message enqueues unconfirmed; 4 consumers (one SDK client each) subscribed with prefetch
// 256, acking every message on its own; 100,000 messages. Measures first enqueue to last ack,
// confirm latency, and counts missing and duplicate messages by the sequence number in the body.
import { availableParallelism } from 'node:os';
import { type BenchRun, type Body, type Figures, Latency, Ledger, now, payloads, until, type Workload } from './harness.ts';

const QUEUE = 'w1';
const MESSAGES = 100_000;
const PRODUCERS = 4;
const IN_FLIGHT_PER_PRODUCER = 256;
const CONSUMERS = 4;
const PREFETCH = 256;
/** After the producers finish, give up waiting for the last acks when nothing moves for this long. */
const STALL_MS = 45_000;

export const w1: Workload = {
  name: 'w1',
  title: 'W1 throughput',
  timeoutMs: 300_000,
  settings: {
    nodes: 3,
    queue: QUEUE,
    messages: MESSAGES,
    producers: PRODUCERS,
    unconfirmedPerProducer: IN_FLIGHT_PER_PRODUCER,
    consumers: CONSUMERS,
    prefetch: PREFETCH,
    ack: 'one ack request per message',
    body: '{ seq, at, data }: data is 256 random bytes as a base64 string (344 characters)',
    transport: 'SDK over WebSocket, each client given all node addresses',
  },
  table: [
    { key: 'msgsPerSec', label: 'W1 end-to-end msgs/s', digits: 0 },
    { key: 'confirmP50Ms', label: 'W1 confirm p50 ms', digits: 2 },
    { key: 'confirmP99Ms', label: 'W1 confirm p99 ms', digits: 2 },
    { key: 'deliveryP50Ms', label: 'W1 enqueue-to-delivery p50 ms', digits: 1 },
    { key: 'missing', label: 'W1 missing (never delivered)', digits: 0 },
    { key: 'duplicateDeliveries', label: 'W1 duplicate deliveries', digits: 0 },
    { key: 'maxNodePeakRssMb', label: 'W1 peak RSS, largest node MB', digits: 0 },
    { key: 'cpuBusyPercent', label: 'W1 CPU used by nodes + client, % of all cores', digits: 0 },
    { key: 'cpuMsPerMessage', label: 'W1 CPU ms per message, nodes + client', digits: 3 },
  ],
  run,
};

async function run(bench: BenchRun): Promise<Figures> {
  const data = payloads(MESSAGES);
  const cluster = await bench.startCluster();
  const ledger = new Ledger(MESSAGES);
  const confirm = new Latency();
  const delivery = new Latency();

  const setup = bench.client(cluster);
  await setup.configureQueue(QUEUE, {});

  const consumers = Array.from({ length: CONSUMERS }, () => bench.client(cluster));
  const producers = Array.from({ length: PRODUCERS }, () => bench.client(cluster));
  await Promise.all([
    ...consumers.map((client, index) => bench.place(`consumer${index + 1}`, client)),
    ...producers.map((client, index) => bench.place(`producer${index + 1}`, client)),
  ]);

  for (const consumer of consumers) {
    await consumer.subscribe(
      QUEUE,
      async (message) => {
        const body = message.body as Body;
        if (!ledger.deliver(body.seq, message.id)) return;
        delivery.recordMs(now() - body.at);
        const settled = await consumer.ack(QUEUE, { receipts: [message.receipt] });
        if (settled.count === 1) ledger.ack(body.seq);
        else {
          ledger.rejectAck();
          bench.noteError('ackRejected', `seq ${body.seq}: ${settled.rejected[0]?.code ?? 'rejected'}`);
        }
      },
      { prefetch: PREFETCH, onError: (error) => bench.noteError('consumer', error) },
    );
  }

  let next = 0;
  let enqueueErrors = 0;
  const cpuBefore = { nodes: cluster.cpuSeconds(), client: process.cpuUsage() };
  const startedAt = now();
  const produce = async (producer: (typeof producers)[number]) => {
    const lane = async () => {
      for (;;) {
        bench.checkAborted();
        const seq = next++;
        if (seq >= MESSAGES) return;
        const at = now();
        try {
          const { id } = await producer.enqueue(QUEUE, { seq, at, data: data[seq]! } satisfies Body);
          confirm.recordMs(now() - at);
          ledger.confirm(seq, id);
        } catch (error) {
          enqueueErrors++;
          bench.noteError('enqueue', error);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT_PER_PRODUCER }, lane));
  };

  const report = setInterval(() => {
    const seconds = (now() - startedAt) / 1000;
    bench.progress(`confirmed ${ledger.confirmed}, acked ${ledger.acked}/${MESSAGES} (${(ledger.acked / seconds).toFixed(0)} msgs/s)`, true);
  }, 2000);
  try {
    await Promise.all(producers.map(produce));
    await until(
      bench,
      () => ledger.acked === MESSAGES,
      () => ledger.acked,
      STALL_MS,
    );
  } finally {
    clearInterval(report);
  }
  const seconds = (ledger.lastAckAt - startedAt) / 1000;
  const undelivered = ledger.figures(MESSAGES).undelivered > 0 ? await ledger.classifyUndelivered(cluster.addresses[0]!, QUEUE, cluster.access) : undefined;
  if (undelivered !== undefined) bench.details.undelivered = undelivered.states;
  const wallSeconds = (now() - startedAt) / 1000;
  const nodeCpu = cluster.cpuSeconds().map((total, index) => total - cpuBefore.nodes[index]!);
  const clientCpu = process.cpuUsage(cpuBefore.client);
  const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
  const cpuFigures: Figures = { clientCpuSeconds };
  nodeCpu.forEach((used, index) => {
    cpuFigures[`node${index + 1}CpuSeconds`] = used;
  });
  // How busy the machine's cores were with this benchmark (nodes and client), in percent.
  const cpuSeconds = clientCpuSeconds + nodeCpu.reduce((sum, used) => sum + used, 0);
  cpuFigures.cpuBusyPercent = (100 * cpuSeconds) / (wallSeconds * availableParallelism());
  // What each message cost, whatever else ran on the machine: far steadier than msgs/s on shared cores.
  cpuFigures.cpuMsPerMessage = (1000 * cpuSeconds) / Math.max(1, ledger.acked);
  return {
    msgsPerSec: ledger.acked / seconds,
    seconds,
    confirmed: ledger.confirmed,
    acked: ledger.acked,
    enqueueErrors,
    ...confirm.figures('confirm'),
    ...delivery.figures('delivery'),
    ...ledger.figures(MESSAGES),
    stuck: undelivered?.stuck ?? 0,
    lost: undelivered?.lost ?? 0,
    ...cluster.rssFigures(),
    ...cpuFigures,
  };
}
