// Floors on this machine, without quorumq: what one fsync of a small append costs, a bare `ws`
// round trip between two processes, how many 256-byte messages `ws` carries one way per second,
// and a bare replication round built from quorumq's own dependencies (replication-floor.ts).
// A confirm needs at least one fsync on each of two nodes and a few WebSocket hops.
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { type BenchRun, BODY_BYTES, type Figures, Latency, type Workload } from './harness.ts';
import { startHelper } from './helper-process.ts';
import { connectLocal } from './local-ws.ts';
import { REPLICATION_FLOOR_SETTING, REPLICATION_WITH_CONSUMER_SETTING, replicationFloor } from './replication-floor.ts';

const FSYNCS = 5000;
const PINGS = 5000;
const ONE_WAY_MS = 3000;
/** The sender waits while more than this is buffered on its socket. */
const ONE_WAY_BUFFER_BYTES = 1 << 20;
const PEER_SCRIPT = fileURLToPath(new URL('./ws-peer.ts', import.meta.url));

export const floors: Workload = {
  name: 'floors',
  title: 'Floors',
  timeoutMs: 60_000,
  settings: {
    fsync: `${FSYNCS} × (fs.writeSync of ${BODY_BYTES} bytes appended + fs.fdatasyncSync) on a file in the OS temp folder (where the benchmark clusters keep their data)`,
    wsRoundTrip: `${PINGS} sequential ${BODY_BYTES}-byte binary messages echoed by a bare ws server in another process`,
    replicationRound: REPLICATION_FLOOR_SETTING,
    replicationWithConsumer: REPLICATION_WITH_CONSUMER_SETTING,
    wsOneWay: `${BODY_BYTES}-byte binary messages sent for ${ONE_WAY_MS} ms to a bare ws server in another process (sender pauses above ${ONE_WAY_BUFFER_BYTES} buffered bytes); the receiver's count over its first-to-last message time`,
  },
  table: [
    { key: 'fsyncP50Ms', label: 'Floor fsync p50 ms', digits: 3 },
    { key: 'fsyncP99Ms', label: 'Floor fsync p99 ms', digits: 3 },
    { key: 'wsRoundTripP50Ms', label: 'Floor ws round trip p50 ms', digits: 3 },
    { key: 'wsRoundTripP99Ms', label: 'Floor ws round trip p99 ms', digits: 3 },
    { key: 'wsOneWayMsgsPerSec', label: 'Floor ws one-way msgs/s', digits: 0 },
    { key: 'replicationRoundP50Ms', label: 'Floor replication round p50 ms', digits: 3 },
    { key: 'replicationRoundP99Ms', label: 'Floor replication round p99 ms', digits: 3 },
    { key: 'replicationWithConsumerP50Ms', label: 'Floor replication round with W2 consumer p50 ms', digits: 3 },
    { key: 'replicationWithConsumerP99Ms', label: 'Floor replication round with W2 consumer p99 ms', digits: 3 },
  ],
  run,
};

async function run(bench: BenchRun): Promise<Figures> {
  const fsync = fsyncFloor();
  bench.progress(`fsync p50 ${fsync.percentileMs(50).toFixed(3)} ms`, true);
  const roundTrip = await withPeer(bench, 'echo', (socket) => pingFloor(bench, socket));
  bench.progress(`ws round trip p50 ${roundTrip.percentileMs(50).toFixed(3)} ms`, true);
  const oneWay = await withPeer(bench, 'count', (socket) => oneWayFloor(bench, socket));
  bench.progress(`ws one-way ${Math.round(oneWay)} msgs/s`, true);
  const replication = await replicationFloor(bench);
  return {
    ...fsync.figures('fsync'),
    ...roundTrip.figures('wsRoundTrip'),
    wsOneWayMsgsPerSec: oneWay,
    ...replication.round.figures('replicationRound'),
    ...replication.withConsumer.figures('replicationWithConsumer'),
  };
}

function fsyncFloor(): Latency {
  const folder = mkdtempSync(join(tmpdir(), 'quorumq-fsync-'));
  const latency = new Latency();
  const fd = openSync(join(folder, 'append.log'), 'a');
  try {
    const record = randomBytes(BODY_BYTES);
    for (let i = 0; i < FSYNCS; i++) {
      const started = performance.now();
      writeSync(fd, record);
      fdatasyncSync(fd);
      latency.recordMs(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(folder, { recursive: true, force: true });
  }
  return latency;
}

async function pingFloor(bench: BenchRun, socket: WebSocket): Promise<Latency> {
  const latency = new Latency();
  const payload = randomBytes(BODY_BYTES);
  for (let i = 0; i < PINGS; i++) {
    bench.checkAborted();
    const started = performance.now();
    const echoed = new Promise<void>((resolve) => socket.once('message', () => resolve()));
    socket.send(payload, { binary: true });
    await echoed;
    latency.recordMs(performance.now() - started);
  }
  return latency;
}

async function oneWayFloor(bench: BenchRun, socket: WebSocket): Promise<number> {
  const payload = randomBytes(BODY_BYTES);
  const until = performance.now() + ONE_WAY_MS;
  while (performance.now() < until) {
    bench.checkAborted();
    for (let i = 0; i < 64; i++) socket.send(payload, { binary: true });
    // Let the socket drain (and timers run) when the kernel stops taking bytes.
    if (socket.bufferedAmount > ONE_WAY_BUFFER_BYTES) await new Promise((resolve) => setImmediate(resolve));
  }
  const report = new Promise<{ count: number; firstAt: number; lastAt: number }>((resolve) => {
    socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as { count: number; firstAt: number; lastAt: number }));
  });
  socket.send('done', { binary: false });
  const { count, firstAt, lastAt } = await report;
  return count / ((lastAt - firstAt) / 1000);
}

/** Starts ws-peer.ts in `mode` as a child process, connects to it, runs `use`, and ends the child. */
async function withPeer<T>(bench: BenchRun, mode: 'echo' | 'count', use: (socket: WebSocket) => Promise<T>): Promise<T> {
  const peer = await startHelper(bench, PEER_SCRIPT, [mode]);
  let socket: WebSocket | undefined;
  try {
    socket = await connectLocal(peer.port);
    return await use(socket);
  } finally {
    socket?.terminate();
    peer.stop();
  }
}
