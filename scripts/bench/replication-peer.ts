// A node of the replication floor (started by replication-floor.ts): the least a confirm can cost
// with this project's own parts and durability, and nothing else. No Raft, no queue: a follower
// stores each entry it is sent and answers; the leader sends each client request's entry to its
// followers, stores it too, and answers once its own write and one follower's are done. A store
// is what a quorumq node does for an append: a synced LevelDB batch and, beside it, an O_DSYNC
// write of a 512-byte slot (the acknowledged mark). Frames are msgpack over `ws`.
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

/** The leader's side: returns what serves one client connection. */
function lead(followers: readonly WebSocket[]): (client: WebSocket) => void {
  const waiting = new Map<number, { stored: boolean; acks: number; answer: () => void }>();
  const settle = (index: number) => {
    const round = waiting.get(index);
    if (round === undefined || !round.stored || round.acks < 1) return;
    waiting.delete(index);
    round.answer();
  };
  for (const follower of followers) {
    follower.on('message', (data: Buffer) => {
      const { index } = unpack(data) as { index: number };
      const round = waiting.get(index);
      if (round === undefined) return;
      round.acks++;
      settle(index);
    });
  }
  let lastIndex = 0;
  return (client) => {
    client.on('message', (data: Buffer) => {
      const { id, body } = unpack(data) as { id: number; body: string };
      const index = ++lastIndex;
      const entry = pack([index, 1, body]);
      waiting.set(index, { stored: false, acks: 0, answer: () => client.send(pack({ id })) });
      const frame = pack({ index, entry });
      for (const follower of followers) follower.send(frame);
      void store(index, entry).then(() => {
        const round = waiting.get(index);
        if (round === undefined) return;
        round.stored = true;
        settle(index);
      });
    });
  };
}

async function openStore(directory: string): Promise<(index: number, entry: Uint8Array) => Promise<void>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view', compression: false });
  await db.open();
  const markFd = openSync(join(directory, 'mark'), constants.O_RDWR | constants.O_CREAT | (constants.O_DSYNC ?? 0));
  process.on('exit', () => closeSync(markFd));
  const slot = new Uint8Array(MARK_SLOT_BYTES);
  const writeMark = () => new Promise<void>((resolve, reject) => write(markFd, slot, 0, slot.length, 0, (error) => (error === null ? resolve() : reject(error))));
  return async (index, entry) => {
    const key = new Uint8Array(8);
    new DataView(key.buffer).setBigUint64(0, BigInt(index));
    await Promise.all([db.batch([{ type: 'put', key, value: entry }], { sync: true }), writeMark()]);
  };
}
