import { createHash } from 'node:crypto';
import { ClassicLevel } from 'classic-level';
import type { Entry, HardState, PersistedState, Ready, Snapshot, SnapshotMeta } from '../raft/index.ts';
import { decode, encode } from '../shared/codec.ts';
import { assert } from '../shared/index.ts';
import { decodeEntry, encodeEntry, GENESIS_LINK } from './entry-codec.ts';
import type { RaftStorage } from './storage-port.ts';
import { StorageCorruptionError } from './storage-errors.ts';

const LOG_PREFIX = 0x6c; // 'l'
const META_PREFIX = 0x6d; // 'm'
const HARD_STATE_KEY = 'raft/hardstate';
const SNAPSHOT_KEY = 'raft/snapshot';

type Operation = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * The Raft log, hard state and snapshot in one LevelDB. Each ready is one atomic batch, written with
 * `sync: true` whenever it carries entries, a snapshot, or a new term or vote (group commit: the
 * caller batches everything that arrived during the previous write into the next ready).
 */
export class LevelStorage implements RaftStorage {
  /** Index of the entry before the first stored one (the snapshot's index), and its chain link. */
  private baseIndex = 0;
  private baseLink: Uint8Array = GENESIS_LINK;
  /** Chain link of every stored entry, by index - baseIndex - 1: new entries extend the chain. */
  private links: Uint8Array[] = [];
  private compaction: Promise<void> = Promise.resolve();

  private constructor(private readonly db: ClassicLevel<Uint8Array, Uint8Array>) {}

  static async open(directory: string): Promise<LevelStorage> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new LevelStorage(db);
  }

  async load(): Promise<PersistedState> {
    const hardStateBytes = await this.db.get(metaKey(HARD_STATE_KEY));
    const hardState: HardState = hardStateBytes === undefined ? { term: 0, vote: '', commit: 0 } : (decode(hardStateBytes) as HardState);
    const snapshot = await this.loadSnapshot();
    const entries = await this.loadEntries();
    const lastIndex = this.baseIndex + entries.length;
    if (hardState.commit > lastIndex) {
      throw new StorageCorruptionError(`commit index ${hardState.commit} is beyond the last stored entry ${lastIndex}: entries were lost`);
    }
    return snapshot === undefined ? { hardState, entries } : { hardState, snapshot, entries };
  }

  async save(ready: Ready): Promise<void> {
    const operations: Operation[] = [];
    if (ready.snapshot !== undefined) this.replaceWithSnapshot(ready.snapshot, operations);
    if (ready.entries.length > 0) this.writeEntries(ready.entries, operations);
    if (ready.hardState !== undefined) operations.push({ type: 'put', key: metaKey(HARD_STATE_KEY), value: encode(ready.hardState) });
    if (operations.length === 0) return;
    await this.db.batch(operations, { sync: ready.mustSync });
  }

  /** Stores a locally taken snapshot and drops the entries it covers, synced. */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.meta.index;
    assert(index > this.baseIndex && index <= this.baseIndex + this.links.length, 'snapshot outside the stored log');
    const link = this.links[index - this.baseIndex - 1]!;
    const operations: Operation[] = [{ type: 'put', key: metaKey(SNAPSHOT_KEY), value: encodeSnapshot(snapshot, link) }];
    for (let i = this.baseIndex + 1; i <= index; i++) operations.push({ type: 'del', key: logKey(i) });
    await this.db.batch(operations, { sync: true });
    this.links = this.links.slice(index - this.baseIndex);
    this.baseIndex = index;
    this.baseLink = link;
    // Deleted keys keep their space until LevelDB compacts them; ask for it now, off the write
    // path. A compaction that fails only postpones reclaiming space: it loses nothing.
    this.compaction = this.compaction.then(() => this.db.compactRange(logKey(0), logKey(index)).catch(() => undefined));
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(metaKey(key));
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    await this.db.put(metaKey(key), value, { sync: true });
  }

  async close(): Promise<void> {
    await this.compaction;
    await this.db.close();
  }

  private async loadSnapshot(): Promise<Snapshot | undefined> {
    const bytes = await this.db.get(metaKey(SNAPSHOT_KEY));
    this.baseIndex = 0;
    this.baseLink = GENESIS_LINK;
    if (bytes === undefined) return undefined;
    const { snapshot, link } = decodeSnapshot(bytes);
    this.baseIndex = snapshot.meta.index;
    this.baseLink = link;
    return snapshot;
  }

  private async loadEntries(): Promise<Entry[]> {
    const entries: Entry[] = [];
    this.links = [];
    let previousLink = this.baseLink;
    let expectedIndex = this.baseIndex + 1;
    for await (const [key, value] of this.db.iterator({ gt: Uint8Array.of(LOG_PREFIX), lt: Uint8Array.of(LOG_PREFIX + 1) })) {
      const index = indexOfLogKey(key);
      if (index <= this.baseIndex) continue;
      if (index !== expectedIndex) throw new StorageCorruptionError(`log entry ${expectedIndex} is missing (found ${index} next)`);
      const { entry, link } = decodeEntry(value, previousLink, expectedIndex);
      entries.push(entry);
      this.links.push(link);
      previousLink = link;
      expectedIndex++;
    }
    return entries;
  }

  private writeEntries(entries: readonly Entry[], operations: Operation[]): void {
    const first = entries[0]!.index;
    const oldLast = this.baseIndex + this.links.length;
    assert(first > this.baseIndex && first <= oldLast + 1, 'entries must continue the stored log');
    this.links.length = first - this.baseIndex - 1;
    let previousLink = this.links[this.links.length - 1] ?? this.baseLink;
    for (const entry of entries) {
      const { value, link } = encodeEntry(entry, previousLink);
      operations.push({ type: 'put', key: logKey(entry.index), value });
      this.links.push(link);
      previousLink = link;
    }
    // A follower that took a shorter conflicting suffix must not keep the old tail.
    for (let index = entries[entries.length - 1]!.index + 1; index <= oldLast; index++) {
      operations.push({ type: 'del', key: logKey(index) });
    }
  }

  private replaceWithSnapshot(snapshot: Snapshot, operations: Operation[]): void {
    for (let index = this.baseIndex + 1; index <= this.baseIndex + this.links.length; index++) {
      operations.push({ type: 'del', key: logKey(index) });
    }
    // The chain restarts at a snapshot from the leader: its link is derived from the snapshot itself.
    const link = snapshotLink(snapshot.meta);
    operations.push({ type: 'put', key: metaKey(SNAPSHOT_KEY), value: encodeSnapshot(snapshot, link) });
    this.baseIndex = snapshot.meta.index;
    this.baseLink = link;
    this.links = [];
  }
}

function logKey(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = LOG_PREFIX;
  new DataView(key.buffer).setBigUint64(1, BigInt(index));
  return key;
}

function indexOfLogKey(key: Uint8Array): number {
  if (key.length !== 9) throw new StorageCorruptionError('malformed log key');
  return Number(new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(1));
}

function metaKey(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  const key = new Uint8Array(bytes.length + 1);
  key[0] = META_PREFIX;
  key.set(bytes, 1);
  return key;
}

function snapshotLink(meta: SnapshotMeta): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encode(meta)).digest().subarray(0, 16));
}

function encodeSnapshot(snapshot: Snapshot, link: Uint8Array): Uint8Array {
  const body = encode({ meta: snapshot.meta, data: snapshot.data, link });
  const checksum = createHash('sha256').update(body).digest().subarray(0, 16);
  return encode({ body, checksum });
}

function decodeSnapshot(bytes: Uint8Array): { snapshot: Snapshot; link: Uint8Array } {
  const { body, checksum } = decode(bytes) as { body: Uint8Array; checksum: Uint8Array };
  const actual = createHash('sha256').update(body).digest().subarray(0, 16);
  if (!Buffer.from(actual).equals(Buffer.from(checksum))) throw new StorageCorruptionError('snapshot fails its checksum');
  const { meta, data, link } = decode(body) as { meta: SnapshotMeta; data: Uint8Array; link: Uint8Array };
  return { snapshot: { meta, data }, link };
}
