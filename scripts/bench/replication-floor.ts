// The replication floor: W2's confirm with nothing but the parts a quorumq node is built from
// (ws, msgpackr, a synced LevelDB batch and an O_DSYNC mark write on each node), three processes
// and this one as the client, on the same cores. It says how much of a W2 confirm the machine and
// the dependencies cost, and so how much is quorumq's own (Raft, the queue, validation, layers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import type WebSocket from 'ws';
import { type BenchRun, BODY_BYTES, Latency } from './harness.ts';
import { type HelperProcess, startHelper } from './helper-process.ts';
import { connectLocal } from './local-ws.ts';

const ROUNDS = 5000;
const WARMUP_ROUNDS = 200;
const PEER_SCRIPT = fileURLToPath(new URL('./replication-peer.ts', import.meta.url));

export const REPLICATION_FLOOR_SETTING = `${ROUNDS} sequential requests (after ${WARMUP_ROUNDS} unmeasured) with a ${BODY_BYTES}-byte body to a bare leader process that sends each to two follower processes and answers once it and one follower have stored it (synced LevelDB batch + O_DSYNC 512-byte mark write, as a quorumq node stores an append)`;

export const REPLICATION_WITH_CONSUMER_SETTING = `the same, with W2's consumer: every committed request is also pushed to a consumer connection, which acks it at once; an ack rides in the leader's next entry (group commit, as in a node) and is answered once that entry commits`;

/** The bare replication round alone, then with a consumer acking every message (W2's shape). */
export interface ReplicationFloor {
  readonly round: Latency;
  readonly withConsumer: Latency;
}

export async function replicationFloor(bench: BenchRun): Promise<ReplicationFloor> {
  const folder = mkdtempSync(join(tmpdir(), 'quorumq-replication-floor-'));
  const helpers: HelperProcess[] = [];
  const clients: WebSocket[] = [];
  try {
    for (const name of ['follower-1', 'follower-2']) helpers.push(await startHelper(bench, PEER_SCRIPT, ['follower', join(folder, name)]));
    const followerPorts = helpers.map((helper) => String(helper.port));
    const leader = await startHelper(bench, PEER_SCRIPT, ['leader', join(folder, 'leader'), ...followerPorts]);
    helpers.push(leader);
    const producer = await connectLocal(leader.port);
    clients.push(producer);
    const round = await measureRounds(bench, producer);
    const consumer = await connectLocal(leader.port);
    clients.push(consumer);
    consumer.on('message', (data: Buffer) => {
      const frame = unpack(data) as { deliver?: number };
      if (frame.deliver !== undefined) consumer.send(pack({ ack: frame.deliver }));
    });
    consumer.send(pack({ subscribe: true }));
    const withConsumer = await measureRounds(bench, producer);
    return { round, withConsumer };
  } finally {
    for (const client of clients) client.terminate();
    for (const helper of helpers) helper.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

async function measureRounds(bench: BenchRun, client: WebSocket): Promise<Latency> {
  const latency = new Latency();
  const body = 'x'.repeat(BODY_BYTES);
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    bench.checkAborted();
    const started = performance.now();
    const answered = new Promise<void>((resolve) => client.once('message', () => resolve()));
    client.send(pack({ id: round, body }));
    await answered;
    if (round >= WARMUP_ROUNDS) latency.recordMs(performance.now() - started);
  }
  return latency;
}
