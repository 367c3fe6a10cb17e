// A node of the replication floor (started by replication-floor.ts): the least a confirm can cost
// with this project's own parts and durability, and nothing else. No Raft, no queue: a follower
// stores each entry it is sent and answers; the leader sends each client request's entry to its
// followers, stores it too, and answers once its own write and one follower's are done. A store
// is what a quorumq node does for an append: a synced LevelDB batch and, beside it, an O_DSYNC
// write of a 512-byte slot (the acknowledged mark). Frames are msgpack over `ws`. A consumer may
// subscribe on the leader: it is pushed every committed request and acks each, as W2's consumer does.
//   replication-peer.ts follower <data dir>
//   replication-peer.ts leader <data dir> <follower port> <follower port>
import { closeSync, constants, openSync, write } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { pack, unpack } from 'msgpackr';
import type { WebSocket } from 'ws';
import { connectLocal, dieWithParent, listenLocal } from './local-ws.ts';

dieWithParent();

const MARK_SLOT_BYTES = 512;

const [role, dataDir, ...followerPorts] = process.argv.slice(2);
if ((role !== 'leader' && role !== 'follower') || dataDir === undefined) {
  throw new Error('usage: replication-peer.ts follower <dir> | leader <dir> <port> <port>');
}
const store = await openStore(dataDir);
const serve = role === 'follower' ? follow : lead(await Promise.all(followerPorts.map((port) => connectLocal(Number(port)))));
listenLocal((socket) => serve(socket));

function follow(leader: WebSocket): void {
  leader.on('message', (data: Buffer) => {
    const { index, entry } = unpack(data) as { index: number; entry: Uint8Array };
    void store(index, entry).then(() => leader.send(pack({ index })));
  });
}

/**
 * The leader's side: returns what serves one client connection. A client frame is an enqueue
 * (`{ id, body }`), a consumer's subscribe (`{ subscribe: true }`) or its ack (`{ ack }`). Writes
 * are group-committed as a quorumq node's are: one entry at a time, each holding everything that
 * arrived while the previous one was being stored (acks included, so an ack rides with the next
 * enqueue when it arrives in time). An entry commits once the leader and one follower have stored
 * it; then each enqueue is answered and delivered to the consumer, and each ack answered.
 */
function lead(followers: readonly WebSocket[]): (client: WebSocket) => void {
  type Enqueue = { readonly client: WebSocket; readonly id: number; readonly body: string };
  type Ack = { readonly client: WebSocket; readonly ack: number };
  const waiting = new Map<number, { stored: boolean; acks: number; enqueues: Enqueue[]; ackers: Ack[] }>();
  let pending: { enqueues: Enqueue[]; ackers: Ack[] } = { enqueues: [], ackers: [] };
  let consumer: WebSocket | undefined;
  let writing = false;
  let lastIndex = 0;
  const commit = (index: number) => {
    const round = waiting.get(index);
    if (round === undefined || !round.stored || round.acks < 1) return;
    waiting.delete(index);
    for (const { client, id, body } of round.enqueues) {
      client.send(pack({ id }));
      consumer?.send(pack({ deliver: id, body }));
    }
    for (const { client, ack } of round.ackers) client.send(pack({ acked: ack }));
  };
  const writeNext = () => {
    if (writing || (pending.enqueues.length === 0 && pending.ackers.length === 0)) return;
    const { enqueues, ackers } = pending;
    pending = { enqueues: [], ackers: [] };
    const index = ++lastIndex;
    const entry = pack([index, 1, enqueues.map((enqueue) => enqueue.body), ackers.map((acker) => acker.ack)]);
    waiting.set(index, { stored: false, acks: 0, enqueues, ackers });
    const frame = pack({ index, entry });
    for (const follower of followers) follower.send(frame);
    writing = true;
    void store(index, entry).then(() => {
      writing = false;
      const round = waiting.get(index);
      if (round !== undefined) round.stored = true;
      commit(index);
      writeNext();
    });
  };
  const arrived = () => setImmediate(writeNext);
  for (const follower of followers) {
    follower.on('message', (data: Buffer) => {
      const { index } = unpack(data) as { index: number };
      const round = waiting.get(index);
      if (round === undefined) return;
      round.acks++;
      commit(index);
    });
  }
  return (client) => {
    client.on('message', (data: Buffer) => {
      const frame = unpack(data) as { id: number; body: string } | { subscribe: true } | { ack: number };
      if ('subscribe' in frame) consumer = client;
      else if ('ack' in frame) pending.ackers.push({ client, ack: frame.ack });
      else pending.enqueues.push({ client, id: frame.id, body: frame.body });
      arrived();
    });
  };
}

async function openStore(directory: string): Promise<(index: number, entry: Uint8Array) => Promise<void>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view', compression: false });
  await db.open();
  const markFd = openSync(join(directory, 'mark'), constants.O_RDWR | constants.O_CREAT | (constants.O_DSYNC ?? 0));
  process.on('exit', () => closeSync(markFd));
  const slot = new Uint8Array(MARK_SLOT_BYTES);
  const writeMark = () =>
    new Promise<void>((resolve, reject) => write(markFd, slot, 0, slot.length, 0, (error) => (error === null ? resolve() : reject(error))));
  return async (index, entry) => {
    const key = new Uint8Array(8);
    new DataView(key.buffer).setBigUint64(0, BigInt(index));
    await Promise.all([db.batch([{ type: 'put', key, value: entry }], { sync: true }), writeMark()]);
  };
}
