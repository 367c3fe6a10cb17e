// W3 failover: a W2-like stream (one producer on the SDK sending one message at a time, one SDK
// consumer acking, 5,000 messages of 256 random bytes). After 2,000 confirms the leader (found by
// GET /cluster) is killed with SIGKILL, between two sends: measured is the time from the signal to
// the next confirm. The stream then goes on to the end with the node down; the node is started
// again with its data, and the queue drained (at most 2 minutes): confirmed messages never
// delivered are looked up in the cluster, lost (gone) or stuck (still queued), and duplicates are
// counted. The second variant does the same with SIGSTOP (the leader goes silent, its sockets stay
// open) and SIGCONT after the stream. Each variant gets a fresh cluster.
import { type BenchRun, type Body, type Figures, Latency, Ledger, now, payloads, sleep, type Workload } from './harness.ts';

const QUEUE = 'w3';
const MESSAGES = 5000;
const FAULT_AFTER_CONFIRMS = 2000;
const PREFETCH = 256;
/** Longer than the queue's default lease (30 s): leases held through a dead node come back after it. */
const DRAIN_MS = 120_000;

type Variant = 'kill' | 'stop';
type QueueStats = { ready: number; inflight: number; delayed: number };

export const w3: Workload = {
  name: 'w3',
  title: 'W3 failover',
  timeoutMs: 600_000,
  settings: {
    nodes: 3,
    queue: QUEUE,
    messages: MESSAGES,
    faultAfterConfirms: FAULT_AFTER_CONFIRMS,
    producer: 'one SDK client, sequential (W2-like), given all node addresses, SDK defaults (15 s request timeout, 30 s retry)',
    consumer: `one SDK client, subscribe with prefetch ${PREFETCH}, one ack per message`,
    body: '{ seq, at, data }: data is 256 random bytes as a base64 string (344 characters)',
    variants: {
      kill: 'SIGKILL the leader between two sends; restart it with its data after the stream; drain',
      stop: 'SIGSTOP the leader between two sends; SIGCONT after the stream; drain',
    },
  },
  table: [
    { key: 'killRecoveryMs', label: 'W3 kill -9 leader -> next confirm ms', digits: 0 },
    { key: 'killLost', label: 'W3 kill: lost', digits: 0 },
    { key: 'killStuck', label: 'W3 kill: undelivered, still queued after drain', digits: 0 },
    { key: 'killDrainMs', label: 'W3 kill: restart to drained ms', digits: 0 },
    { key: 'killDuplicateDeliveries', label: 'W3 kill: duplicate deliveries', digits: 0 },
    { key: 'killDuplicateMessages', label: 'W3 kill: duplicate messages', digits: 0 },
    { key: 'stopRecoveryMs', label: 'W3 SIGSTOP leader -> next confirm ms', digits: 0 },
    { key: 'stopLost', label: 'W3 stop: lost', digits: 0 },
    { key: 'stopStuck', label: 'W3 stop: undelivered, still queued after drain', digits: 0 },
    { key: 'stopDrainMs', label: 'W3 stop: SIGCONT to drained ms', digits: 0 },
    { key: 'stopDuplicateDeliveries', label: 'W3 stop: duplicate deliveries', digits: 0 },
    { key: 'stopDuplicateMessages', label: 'W3 stop: duplicate messages', digits: 0 },
  ],
  run: async (bench) => ({ ...(await failover(bench, 'kill')), ...(await failover(bench, 'stop')) }),
};

async function failover(bench: BenchRun, variant: Variant): Promise<Figures> {
  const data = payloads(MESSAGES);
  const cluster = await bench.startCluster();
  const ledger = new Ledger(MESSAGES);
  const confirm = new Latency();
  const producer = bench.client(cluster);
  const consumer = bench.client(cluster);
  await producer.configureQueue(QUEUE, {});
  const producerAt = await bench.place(`${variant} producer`, producer);
  const consumerAt = await bench.place(`${variant} consumer`, consumer);
  await consumer.subscribe(
    QUEUE,
    async (message) => {
      const body = message.body as Body;
      if (!ledger.deliver(body.seq, message.id)) return;
      const settled = await consumer.ack(QUEUE, { receipts: [message.receipt] });
      if (settled.count === 1) ledger.ack(body.seq);
      else {
        ledger.rejectAck();
        bench.noteError(`${variant} ackRejected`, `seq ${body.seq}: ${settled.rejected[0]?.code ?? 'rejected'}`);
      }
    },
    { prefetch: PREFETCH, onError: (error) => bench.noteError(`${variant} consumer`, error) },
  );

  let leader = -1;
  let faultAt = 0;
  let recoveryMs = Number.NaN;
  let enqueueErrors = 0;
  for (let seq = 0; seq < MESSAGES; seq++) {
    bench.checkAborted();
    if (seq === FAULT_AFTER_CONFIRMS) {
      leader = await cluster.leaderIndex();
      bench.progress(
        `${variant}: ${variant === 'kill' ? 'SIGKILL' : 'SIGSTOP'} to the leader ${cluster.addresses[leader]} after ${ledger.confirmed} confirms`,
        true,
      );
      faultAt = now();
      if (variant === 'kill') await cluster.local.kill(leader, 'SIGKILL');
      else cluster.local.pause(leader);
    }
    const at = now();
    try {
      const { id } = await producer.enqueue(QUEUE, { seq, at, data: data[seq]! } satisfies Body);
      const confirmedAt = now();
      confirm.recordMs(confirmedAt - at);
      ledger.confirm(seq, id);
      if (faultAt > 0 && Number.isNaN(recoveryMs)) {
        recoveryMs = confirmedAt - faultAt;
        bench.progress(`${variant}: next confirm ${recoveryMs.toFixed(0)} ms after the signal`, true);
      }
    } catch (error) {
      enqueueErrors++;
      bench.noteError(`${variant} enqueue`, error);
    }
    bench.progress(() => `${variant}: confirmed ${ledger.confirmed}/${MESSAGES}, delivered ${ledger.delivered}`);
  }

  const healAt = now();
  if (variant === 'kill') cluster.local.start(leader);
  else cluster.local.resume(leader);
  await cluster.waitReady();
  const rejoinMs = now() - healAt;
  // Drained: every confirmed message delivered, and nothing left in the queue. (Not "every one
  // acked": an ack retried after the node that applied it died is answered NOT_FOUND.)
  let drained = false;
  let stats: QueueStats | undefined;
  while (!drained && now() - healAt < DRAIN_MS) {
    bench.checkAborted();
    if (ledger.allConfirmedDelivered) {
      stats = (await consumer.getQueue(QUEUE)) as QueueStats;
      drained = stats.ready + stats.inflight + stats.delayed === 0;
    }
    if (!drained) await sleep(200);
    bench.progress(() => `${variant}: draining, acked ${ledger.acked}, confirmed ${ledger.confirmed}`);
  }
  bench.details[`${variant} queue at the end`] = stats ?? 'not read: a confirmed message was never delivered';
  const figures = ledger.figures(MESSAGES);
  const drainMs = now() - healAt;
  const undelivered =
    figures.undelivered > 0 ? await ledger.classifyUndelivered(cluster.addresses[(leader + 1) % cluster.addresses.length]!, QUEUE, cluster.access) : undefined;
  if (undelivered !== undefined) bench.details[`${variant} undelivered by state`] = undelivered.states;
  await bench.release(cluster, [producer, consumer]);
  return {
    [`${variant}RecoveryMs`]: recoveryMs,
    ...confirm.figures(`${variant}Confirm`),
    [`${variant}EnqueueErrors`]: enqueueErrors,
    [`${variant}Lost`]: undelivered?.lost ?? 0,
    [`${variant}Stuck`]: undelivered?.stuck ?? 0,
    [`${variant}DuplicateDeliveries`]: figures.duplicateDeliveries,
    [`${variant}DuplicateMessages`]: figures.duplicateMessages,
    [`${variant}UnconfirmedDelivered`]: figures.unconfirmedDelivered,
    [`${variant}AckRejected`]: figures.ackRejected,
    [`${variant}RejoinMs`]: rejoinMs,
    [`${variant}DrainMs`]: drainMs,
    [`${variant}Drained`]: drained ? 1 : 0,
    [`${variant}ProducerOnLeader`]: producerAt.address === cluster.addresses[leader] ? 1 : 0,
    [`${variant}ConsumerOnLeader`]: consumerAt.address === cluster.addresses[leader] ? 1 : 0,
  };
}
