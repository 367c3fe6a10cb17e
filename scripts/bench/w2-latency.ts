// W2 latency: one producer sends one message at a time and waits for its confirm; one consumer
// (SDK, WebSocket) acks each. 5,000 messages of 256 random bytes. Run three times on the same fresh
// cluster: the producer on the SDK (WebSocket), then over HTTP (fetch, keep-alive; on a secured
// cluster node:https with its CA, as fetch takes no CA) to the node the SDK producer landed on, so
// both go through the same node, then on the SDK again: the first
// stream meets processes whose JIT is cold, the last a cluster that has been running. The body
// carries its send time, so enqueue-to-delivery is measured on one clock (producer and consumer
// share this process).
import { nodeRequest } from '../../cluster/node-http.ts';
import type { QuorumqClient } from '../../src/client/index.ts';
import { type BenchCluster, type BenchRun, type Body, type Figures, Latency, Ledger, now, payloads, until, type Workload } from './harness.ts';

const MESSAGES = 5000;
const PREFETCH = 256;
const STALL_MS = 15_000;
const HTTP_TIMEOUT_MS = 15_000;

export const w2: Workload = {
  name: 'w2',
  title: 'W2 latency',
  timeoutMs: 240_000,
  settings: {
    nodes: 3,
    messages: MESSAGES,
    producer: 'one, sequential: the next enqueue starts when the previous one is confirmed',
    consumer: `one SDK client, subscribe with prefetch ${PREFETCH}, one ack per message`,
    body: '{ seq, at, data }: data is 256 random bytes as a base64 string (344 characters)',
    variants: {
      sdk: 'producer on the SDK over WebSocket, given all node addresses',
      http: 'producer on fetch (keep-alive) POST /queues/:q/messages to the node the SDK producer used; with --secure, node:https (keep-alive) with the CA and token instead, as fetch takes no CA',
      sdkWarm:
        'the SDK stream again, on a new queue of the same cluster, after the two streams above (10,000 messages): what a cluster that has been running does, its JIT warm',
    },
  },
  table: [
    { key: 'sdkConfirmP50Ms', label: 'W2 SDK confirm p50 ms', digits: 2 },
    { key: 'sdkConfirmP99Ms', label: 'W2 SDK confirm p99 ms', digits: 2 },
    { key: 'sdkConfirmMaxMs', label: 'W2 SDK confirm max ms', digits: 2 },
    { key: 'sdkDeliveryP50Ms', label: 'W2 SDK enqueue-to-delivery p50 ms', digits: 2 },
    { key: 'sdkDeliveryP99Ms', label: 'W2 SDK enqueue-to-delivery p99 ms', digits: 2 },
    { key: 'sdkWarmConfirmP50Ms', label: 'W2 SDK, warm cluster, confirm p50 ms', digits: 2 },
    { key: 'sdkWarmConfirmP99Ms', label: 'W2 SDK, warm cluster, confirm p99 ms', digits: 2 },
    { key: 'sdkWarmConfirmMaxMs', label: 'W2 SDK, warm cluster, confirm max ms', digits: 2 },
    { key: 'httpConfirmP50Ms', label: 'W2 HTTP confirm p50 ms', digits: 2 },
    { key: 'httpConfirmP99Ms', label: 'W2 HTTP confirm p99 ms', digits: 2 },
    { key: 'httpConfirmMaxMs', label: 'W2 HTTP confirm max ms', digits: 2 },
    { key: 'httpDeliveryP50Ms', label: 'W2 HTTP enqueue-to-delivery p50 ms', digits: 2 },
    { key: 'httpDeliveryP99Ms', label: 'W2 HTTP enqueue-to-delivery p99 ms', digits: 2 },
    { key: 'producerOnLeader', label: 'W2 producer node was the leader (1/0)', digits: 0 },
    { key: 'sdkLeaderCpuMsPerMessage', label: 'W2 SDK CPU ms per message: leader', digits: 3 },
    { key: 'sdkFollowerCpuMsPerMessage', label: 'W2 SDK CPU ms per message: each follower', digits: 3 },
    { key: 'sdkClientCpuMsPerMessage', label: 'W2 SDK CPU ms per message: client process', digits: 3 },
  ],
  run,
};

/** Enqueues one message and answers its id once it is confirmed. */
type Send = (queue: string, body: Body) => Promise<string>;

async function run(bench: BenchRun): Promise<Figures> {
  const cluster = await bench.startCluster();
  const producer = bench.client(cluster);
  const placement = await bench.place('producer', producer);
  const cpuBefore = { nodes: cluster.cpuSeconds(), client: process.cpuUsage() };
  const sendOnSdk: Send = async (queue, body) => (await producer.enqueue(queue, body)).id;
  const sdk = await stream(bench, cluster, 'sdk', 'w2-sdk', sendOnSdk);
  const sdkCpu = cpuPerMessage(cpuBefore, cluster.cpuSeconds(), process.cpuUsage(cpuBefore.client), await cluster.leaderIndex());
  const http = await stream(
    bench,
    cluster,
    'http',
    'w2-http',
    cluster.access.ca === undefined ? sendOnFetch(placement.address) : sendOnNodeHttps(cluster, placement.address),
  );
  const sdkWarm = await stream(bench, cluster, 'sdkWarm', 'w2-sdk-warm', sendOnSdk);
  return { ...sdk, ...sdkCpu, ...http, ...sdkWarm, producerOnLeader: placement.role === 'leader' ? 1 : 0 };
}

function sendOnFetch(address: string): Send {
  return async (queue, body) => {
    const response = await fetch(`http://${address}/queues/${queue}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    return (JSON.parse(text) as { id: string }).id;
  };
}

/** Over HTTPS with the cluster's CA and token: node:https's global agent keeps the connection alive, as fetch does. */
function sendOnNodeHttps(cluster: BenchCluster, address: string): Send {
  return async (queue, body) => {
    const reply = await nodeRequest(address, `/queues/${queue}/messages`, cluster.access, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    if (reply.status !== 201) throw new Error(`HTTP ${reply.status}: ${reply.text.slice(0, 200)}`);
    return (JSON.parse(reply.text) as { id: string }).id;
  };
}

/**
 * CPU (user + system, all threads) per message of the SDK stream, by process: much steadier than
 * latency on a shared machine, and W2 is CPU-bound on two cores, so the figure to watch per change.
 */
function cpuPerMessage(before: { nodes: number[] }, nodesAfter: number[], client: NodeJS.CpuUsage, leader: number): Figures {
  const used = nodesAfter.map((seconds, index) => ((seconds - before.nodes[index]!) * 1000) / MESSAGES);
  const followers = used.filter((_, index) => index !== leader);
  return {
    sdkLeaderCpuMsPerMessage: used[leader]!,
    sdkFollowerCpuMsPerMessage: followers.reduce((sum, ms) => sum + ms, 0) / followers.length,
    sdkClientCpuMsPerMessage: (client.user + client.system) / 1000 / MESSAGES,
  };
}

async function stream(bench: BenchRun, cluster: BenchCluster, prefix: string, queue: string, send: Send): Promise<Figures> {
  const data = payloads(MESSAGES);
  const ledger = new Ledger(MESSAGES);
  const confirm = new Latency();
  const delivery = new Latency();
  const consumer: QuorumqClient = bench.client(cluster);
  await consumer.configureQueue(queue, {});
  await bench.place(`${prefix} consumer`, consumer);
  const subscription = await consumer.subscribe(
    queue,
    async (message) => {
      const body = message.body as Body;
      if (!ledger.deliver(body.seq, message.id)) return;
      delivery.recordMs(now() - body.at);
      const settled = await consumer.ack(queue, { receipts: [message.receipt] });
      if (settled.count === 1) ledger.ack(body.seq);
      else {
        ledger.rejectAck();
        bench.noteError(`${prefix} ackRejected`, `seq ${body.seq}: ${settled.rejected[0]?.code ?? 'rejected'}`);
      }
    },
    { prefetch: PREFETCH, onError: (error) => bench.noteError(`${prefix} consumer`, error) },
  );
  let enqueueErrors = 0;
  for (let seq = 0; seq < MESSAGES; seq++) {
    bench.checkAborted();
    const at = now();
    try {
      const id = await send(queue, { seq, at, data: data[seq]! });
      confirm.recordMs(now() - at);
      ledger.confirm(seq, id);
    } catch (error) {
      enqueueErrors++;
      bench.noteError(`${prefix} enqueue`, error);
    }
    bench.progress(() => `${prefix}: confirmed ${ledger.confirmed}/${MESSAGES}, p50 ${confirm.percentileMs(50).toFixed(2)} ms`);
  }
  await until(
    bench,
    () => ledger.allConfirmedAcked,
    () => ledger.acked + ledger.ackRejected,
    STALL_MS,
  );
  await subscription.close();
  const { undelivered, duplicateDeliveries } = ledger.figures(MESSAGES);
  return {
    ...confirm.figures(`${prefix}Confirm`),
    ...delivery.figures(`${prefix}Delivery`),
    [`${prefix}EnqueueErrors`]: enqueueErrors,
    [`${prefix}Undelivered`]: undelivered,
    [`${prefix}DuplicateDeliveries`]: duplicateDeliveries,
  };
}
