import { ClassicLevel } from 'classic-level';
import type { Entry, HardState, PersistedState, Ready, Snapshot, SnapshotMeta } from '../raft/index.ts';
import { decode, encode } from '../shared/codec.ts';
import { assert, isNodeId } from '../shared/index.ts';
import { CHECKSUM_BYTES, checksumOf } from './checksum.ts';
import {
  CHUNKED_RECORD_MARK,
  type ChunkedSnapshotRecord,
  chunkCount,
  chunkOf,
  DataChecksum,
  decodeChunkedRecord,
  encodeChunkedRecord,
} from './chunked-snapshot.ts';
import { decodeEntry, encodeEntry, GENESIS_LINK, LINK_BYTES } from './entry-codec.ts';
import type { LevelOperation, PowerCut } from './power-cut.ts';
import { StorageCorruptionError } from './storage-errors.ts';
import type { RaftStorage } from './storage-port.ts';

const LOG_PREFIX = 0x6c; // 'l'
const META_PREFIX = 0x6d; // 'm'
const HARD_STATE_KEY = 'raft/hardstate';
/** Snapshots are stored under this prefix plus their index, so the newest sorts last. */
const SNAPSHOT_KEY_PREFIX = 'raft/snapshot/';
/** A chunked snapshot's data: this prefix, its index, a slash, the chunk's number. Outside `snapshotRange`. */
const SNAPSHOT_CHUNK_KEY_PREFIX = 'raft/snapshot-chunk/';

type Operation = LevelOperation;

/**
 * The Raft log, hard state and snapshots in one LevelDB. Each ready is one atomic batch, written with
 * `sync: true` whenever it carries entries, a snapshot, or a new term or vote (group commit: the
 * caller batches everything that arrived during the previous write into the next ready).
 *
 * Two local snapshots are kept, and the log since the older one: a newest snapshot that fails its
 * checksum on restart is set aside and the node rebuilds from the previous one plus the log, instead
 * of refusing to start or, worse, trusting damaged state.
 */
export class LevelStorage implements RaftStorage {
  /** Index of the entry before the first stored one (the snapshot's index), and its chain link. */
  private baseIndex = 0;
  private baseLink: Uint8Array = GENESIS_LINK;
  /** Chain link of every stored entry, by index - baseIndex - 1: new entries extend the chain. */
  private links: Uint8Array[] = [];
  /** Indexes of the stored snapshots, oldest first (at most two after a save). */
  private snapshotIndexes: number[] = [];
  /** The first log index still on disk: entries since the previous snapshot are kept for a fallback. */
  private retainedFrom = 1;
  private compaction: Promise<void> = Promise.resolve();
  /** Deletions of obsolete log and snapshot chunks, under way one after another (see `dropRange`). */
  private pendingDrops: Promise<void> = Promise.resolve();
  /** A hard state that changed only its commit index, not yet written (see `save`). */
  private deferredHardState: HardState | undefined;
  /** The local snapshot being written, which a snapshot from the leader must not overtake. */
  private snapshotWrite: Promise<void> = Promise.resolve();
  /** Snapshots found damaged at load: skipped, and kept on disk until the next snapshot replaces them. */
  damagedSnapshots: number[] = [];
  /**
   * What the last `load` found wrong in the log: a damaged, misplaced or missing entry (it and
   * everything after it were deleted: nothing past a break in the chain can be trusted), or a
   * commit index beyond the log. Whether that loses anything acknowledged is the mark's to say.
   */
  damage: string[] = [];

  private constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private readonly powerCut: PowerCut | undefined,
  ) {}

  /** `powerCut` (tests only) journals every write so that a simulated power cut can undo the uncovered ones. */
  static async open(directory: string, powerCut?: PowerCut): Promise<LevelStorage> {
    // Uncompressed, as queue logs usually are: entries live only until the next snapshot, and snappy
    // cost CPU on every flush and compaction plus a transient copy of each snapshot-sized block
    // (W1: 19.5k -> 20.6k msgs/s, peak RSS of the largest node about 300 -> 280 MB).
    const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view', compression: false });
    await db.open();
    return new LevelStorage(db, powerCut);
  }

  /**
   * Reads every record once. LevelDB reports a damaged block only when something reads it, and a
   * start reads only part of the store: a block found bad later (by a read of some other key, or
   * by a compaction) would fail the node then, for good. Found now, it is damage like any other.
   */
  async verifyReadable(): Promise<void> {
    for await (const entry of this.db.iterator()) void entry;
  }

  /** The longest verified log (see `damage`), the newest sound snapshot and the hard state. */
  async load(): Promise<PersistedState> {
    this.damage = [];
    const stored = await this.loadHardState();
    const snapshot = await this.loadSnapshot();
    this.retainedFrom = Math.min(this.baseIndex + 1, (await this.firstStoredIndex()) ?? Infinity);
    const entries = await this.loadEntries();
    // Paired with `writeEntries`: the chain links mirror the stored entries, one each.
    assert(this.links.length === entries.length, 'one chain link per loaded entry');
    const lastIndex = this.baseIndex + entries.length;
    let hardState = stored;
    if (stored.commit > lastIndex) {
      this.damage.push(`commit index ${stored.commit} is beyond the last stored entry ${lastIndex}: entries were lost`);
      hardState = { ...stored, commit: lastIndex };
    }
    return snapshot === undefined ? { hardState, entries } : { hardState, snapshot, entries };
  }

  /** Replaces the hard state alone, synced (one the store lost, restored from the mark). */
  async storeHardState(hardState: HardState): Promise<void> {
    await this.write([{ type: 'put', key: metaKey(HARD_STATE_KEY), value: encode(hardState) }], true);
  }

  /**
   * Throws away the whole log, every snapshot and the hard state, and stores `hardState` instead,
   * in one synced batch: a node whose log lost acknowledged entries is rebuilt from the leader.
   */
  async discardAll(hardState: HardState): Promise<void> {
    // The log starts again from index 1: a deletion still under way must not reach the new entries.
    await this.pendingDrops;
    const operations: Operation[] = [];
    for await (const key of this.db.keys({ gt: Uint8Array.of(LOG_PREFIX), lt: Uint8Array.of(LOG_PREFIX + 1) })) operations.push({ type: 'del', key });
    for await (const key of this.db.keys(snapshotRange())) operations.push({ type: 'del', key });
    for await (const key of this.db.keys(allSnapshotChunksRange())) operations.push({ type: 'del', key });
    operations.push({ type: 'put', key: metaKey(HARD_STATE_KEY), value: encode(hardState) });
    await this.write(operations, true);
    this.baseIndex = 0;
    this.baseLink = GENESIS_LINK;
    this.links = [];
    this.snapshotIndexes = [];
    this.damagedSnapshots = [];
    this.retainedFrom = 1;
    this.deferredHardState = undefined;
    this.compactDeletedLog(Number.MAX_SAFE_INTEGER);
  }

  async save(ready: Ready): Promise<void> {
    if (ready.snapshot !== undefined) await this.snapshotWrite;
    const hardState = ready.hardState ?? this.deferredHardState;
    // A hard state whose only change is the commit index needs no write of its own: the commit
    // index is not needed for safety (a restarted node learns it again from the leader), so it
    // rides along with the next write instead of costing a disk round trip before every apply.
    if (ready.entries.length === 0 && ready.snapshot === undefined && !ready.mustSync) {
      this.deferredHardState = hardState;
      return;
    }
    this.deferredHardState = undefined;
    const operations: Operation[] = [];
    const replaced = ready.snapshot === undefined ? [] : await this.replaceWithSnapshot(ready.snapshot, operations);
    if (ready.entries.length > 0) this.writeEntries(ready.entries, operations);
    if (hardState !== undefined) operations.push({ type: 'put', key: metaKey(HARD_STATE_KEY), value: encode(hardState) });
    if (operations.length === 0) return;
    await this.write(operations, ready.mustSync);
    // Only once the records naming them are gone: a crash before would leave records without data.
    this.dropChunks(replaced);
  }

  /**
   * Stores a locally taken snapshot, synced. The snapshot before it becomes the fallback: older
   * snapshots, and the entries up to the fallback's index, are deleted. May run beside `save`: the
   * bookkeeping happens at the call, and the batch touches only keys no ready batch writes.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshotWrite = this.writeSnapshot(snapshot);
    return this.snapshotWrite;
  }

  private async writeSnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.meta.index;
    assert(index > this.baseIndex && index <= this.baseIndex + this.links.length, 'snapshot outside the stored log');
    const link = this.links[index - this.baseIndex - 1]!;
    const fallback = this.snapshotIndexes[this.snapshotIndexes.length - 1] ?? 0;
    assert(fallback === this.baseIndex, `the newest stored snapshot (${fallback}) must be the base of the stored log (${this.baseIndex})`);
    const lastIndex = this.baseIndex + this.links.length;
    const replaced = [...this.snapshotIndexes.slice(0, -1), ...this.damagedSnapshots];
    const operations: Operation[] = replaced.map((older) => ({ type: 'del', key: snapshotKey(older) }));
    const dropFrom = this.retainedFrom;
    this.snapshotIndexes = fallback === 0 ? [index] : [fallback, index];
    this.damagedSnapshots = [];
    this.retainedFrom = Math.max(this.retainedFrom, fallback + 1);
    this.links = this.links.slice(index - this.baseIndex);
    this.baseIndex = index;
    this.baseLink = link;
    assert(this.baseIndex + this.links.length === lastIndex, 'a local snapshot compacts the stored log, never moves its end');
    // The compaction that reclaims the dropped log runs after the deletion, over the dropped range only
    // (see `dropRange`). One forced over the whole log at the snapshot's batch rewrote the snapshots too
    // (every level-0 file spans the log and the meta keys) and cost each node 60-80 MB of native memory.
    const record = await this.writeChunks(snapshot, link);
    // The record is what makes the chunks a snapshot: synced, and so the chunks written before it.
    await this.write([{ type: 'put', key: snapshotKey(index), value: encodeChunkedRecord(record) }, ...operations], true);
    this.dropChunks(replaced);
    this.dropLog(dropFrom, fallback);
  }

  /**
   * Writes the snapshot's data a chunk per batch, unsynced, hashing it as it goes: the log's own
   * writes go between them, and no step holds the event loop for more than a chunk's copy.
   */
  private async writeChunks(snapshot: Snapshot, link: Uint8Array): Promise<ChunkedSnapshotRecord> {
    const { meta, data } = snapshot;
    const checksum = new DataChecksum();
    const chunks = chunkCount(data.length);
    let offset = 0;
    for (let chunk = 0; chunk < chunks; chunk++) {
      const bytes = chunkOf(data, chunk);
      // Paired with `readChunked`, which refuses chunks that do not add up to the record's size.
      assert(bytes.length > 0 && bytes.byteOffset === data.byteOffset + offset, 'a snapshot chunk must start where the one before it ended');
      offset += bytes.length;
      checksum.add(bytes);
      await this.write([{ type: 'put', key: snapshotChunkKey(meta.index, chunk), value: bytes }], false);
    }
    assert(offset === data.length, `snapshot chunks cover ${offset} of ${data.length} bytes`);
    return { meta, link, dataChecksum: checksum.digest(), bytes: data.length, chunks };
  }

  /** Deletes the chunks of snapshots whose records are gone (see `dropRange`). */
  private dropChunks(indexes: readonly number[]): void {
    for (const index of indexes) this.dropRange(snapshotChunkRange(index));
  }

  /**
   * Deletes the log from `from` through `through`, entries no snapshot can fall back to any more, in
   * LevelDB's own thread and after the snapshot that covers them is durable. Listed in the
   * snapshot's batch, the deletions of a whole interval (10,000 entries by default) held the event
   * loop for 40-130 ms under load, building and cloning one operation per key. Not atomic with the
   * snapshot, and not synced: entries left behind by a crash lie below the snapshot, where loading
   * never looks, and the next snapshot deletes them (`retainedFrom` starts at the first stored one).
   */
  private dropLog(from: number, through: number): void {
    // Only `through` is checked: `from` may be the first log key found on disk at load.
    assert(through < this.baseIndex, `dropping the log through ${through}, not below the snapshot at ${this.baseIndex}`);
    if (through >= from) this.dropRange({ gte: logKey(from), lte: logKey(through) });
  }

  /**
   * Deletes every key in `range` behind the deletions already queued, unsynced, in LevelDB's own
   * thread (under the power-cut journal of tests, as one journaled batch). A failure only leaves
   * obsolete keys behind, for the next snapshot or start to delete.
   */
  private dropRange(range: { gte: Uint8Array; lt?: Uint8Array; lte?: Uint8Array }): void {
    const drop = async () => {
      if (this.powerCut === undefined) await this.db.clear(range);
      else {
        const operations: Operation[] = [];
        for await (const key of this.db.keys(range)) operations.push({ type: 'del', key });
        await this.write(operations, false);
      }
      // Deleted records and their tombstones stay on disk until a compaction merges them, which LevelDB's
      // own reaches only when a level fills: under a steady log that is hundreds of megabytes later.
      await this.db.compactRange(range.gte, range.lte ?? range.lt ?? range.gte);
    };
    this.pendingDrops = this.pendingDrops.then(drop).catch(() => undefined);
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(metaKey(key));
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    await this.write([{ type: 'put', key: metaKey(key), value }], true);
  }

  async close(): Promise<void> {
    if (this.deferredHardState !== undefined) await this.write([{ type: 'put', key: metaKey(HARD_STATE_KEY), value: encode(this.deferredHardState) }], true);
    await this.pendingDrops;
    await this.compaction;
    await this.db.close();
  }

  private async loadHardState(): Promise<HardState> {
    const bytes = await this.db.get(metaKey(HARD_STATE_KEY));
    if (bytes === undefined) return { term: 0, vote: '', commit: 0 };
    try {
      const hardState = decode(bytes) as HardState;
      if (isHardState(hardState)) return hardState;
    } catch {
      // Reported below, as for a value of the wrong shape.
    }
    // The mark holds the term and vote too: start from nothing here and let it restore them.
    this.damage.push('the hard state does not decode');
    return { term: 0, vote: '', commit: 0 };
  }

  /** The newest snapshot that passes its checksum; damaged newer ones are skipped (and reported). */
  private async loadSnapshot(): Promise<Snapshot | undefined> {
    this.baseIndex = 0;
    this.baseLink = GENESIS_LINK;
    this.snapshotIndexes = [];
    this.damagedSnapshots = [];
    const stored: [number, Uint8Array][] = [];
    for await (const [key, value] of this.db.iterator(snapshotRange())) stored.push([indexOfSnapshotKey(key), value]);
    await this.dropOrphanChunks(new Set(stored.map(([index]) => index)));
    while (stored.length > 0) {
      const [index, bytes] = stored.pop()!;
      const decoded = bytes[0] === CHUNKED_RECORD_MARK ? await this.readChunked(bytes) : tryDecodeSnapshot(bytes);
      if (decoded === undefined || decoded.snapshot.meta.index !== index) {
        this.damagedSnapshots.push(index);
        continue;
      }
      this.snapshotIndexes = [...stored.map(([older]) => older), index];
      this.baseIndex = index;
      this.baseLink = decoded.link;
      return decoded.snapshot;
    }
    return undefined;
  }

  /** A chunked snapshot with its data read back and checked; undefined when anything is missing or damaged. */
  private async readChunked(bytes: Uint8Array): Promise<{ snapshot: Snapshot; link: Uint8Array } | undefined> {
    const record = decodeChunkedRecord(bytes);
    if (record === undefined) return undefined;
    const data = new Uint8Array(record.bytes);
    const checksum = new DataChecksum();
    let offset = 0;
    let chunks = 0;
    for await (const chunk of this.db.values(snapshotChunkRange(record.meta.index))) {
      if (offset + chunk.length > data.length) return undefined;
      data.set(chunk, offset);
      checksum.add(chunk);
      offset += chunk.length;
      chunks++;
    }
    const whole = chunks === record.chunks && offset === record.bytes && Buffer.from(checksum.digest()).equals(Buffer.from(record.dataChecksum));
    return whole ? { snapshot: { meta: record.meta, data }, link: record.link } : undefined;
  }

  /** Chunks no snapshot record names: a crash came between writing them and their record. */
  private async dropOrphanChunks(recorded: ReadonlySet<number>): Promise<void> {
    const orphans = new Set<number>();
    for await (const key of this.db.keys(allSnapshotChunksRange())) {
      const index = indexOfSnapshotChunkKey(key);
      if (!recorded.has(index)) orphans.add(index);
    }
    if (orphans.size > 0) this.dropChunks([...orphans]);
  }

  private async firstStoredIndex(): Promise<number | undefined> {
    for await (const key of this.db.keys({ gt: Uint8Array.of(LOG_PREFIX), lt: Uint8Array.of(LOG_PREFIX + 1), limit: 1 })) return indexOfLogKey(key);
    return undefined;
  }

  /** The entries after the snapshot up to the first that fails its checks; those from there on are deleted. */
  private async loadEntries(): Promise<Entry[]> {
    const entries: Entry[] = [];
    this.links = [];
    let previousLink = this.baseLink;
    let expectedIndex = this.baseIndex + 1;
    let firstBad: Uint8Array | undefined;
    for await (const [key, value] of this.db.iterator({ gt: logKey(this.baseIndex), lt: Uint8Array.of(LOG_PREFIX + 1) })) {
      const verified = verifyEntry(key, value, previousLink, expectedIndex);
      if (typeof verified === 'string') {
        this.damage.push(`${verified}: it and every later entry are dropped`);
        firstBad = key;
        break;
      }
      entries.push(verified.entry);
      this.links.push(verified.link);
      previousLink = verified.link;
      expectedIndex++;
    }
    if (firstBad !== undefined) await this.deleteLogFrom(firstBad);
    return entries;
  }

  private async deleteLogFrom(first: Uint8Array): Promise<void> {
    const operations: Operation[] = [];
    for await (const key of this.db.keys({ gte: first, lt: Uint8Array.of(LOG_PREFIX + 1) })) operations.push({ type: 'del', key });
    await this.write(operations, true);
  }

  private writeEntries(entries: readonly Entry[], operations: Operation[]): void {
    const first = entries[0]!.index;
    const oldLast = this.baseIndex + this.links.length;
    assert(first > this.baseIndex && first <= oldLast + 1, 'entries must continue the stored log');
    this.links.length = first - this.baseIndex - 1;
    let previousLink = this.links[this.links.length - 1] ?? this.baseLink;
    for (const entry of entries) {
      // The chain position is the index: a gap or a repeat would chain entries under the wrong keys.
      assert(entry.index === this.baseIndex + this.links.length + 1, 'entries written must be contiguous');
      const { value, link } = encodeEntry(entry, previousLink);
      operations.push({ type: 'put', key: logKey(entry.index), value });
      this.links.push(link);
      previousLink = link;
    }
    // A follower that took a shorter conflicting suffix must not keep the old tail.
    addLogDeletions(operations, entries[entries.length - 1]!.index + 1, oldLast);
  }

  /** A snapshot from the leader replaces the whole log; no local snapshot can fall back past it. */
  /**
   * Writes the snapshot's chunks, and adds to `operations` its record and the deletion of the log and
   * of the snapshots it replaces; answers those snapshots' indexes, whose chunks go once the batch
   * is written. Chunks written before a crash that loses the batch are orphans, deleted at start.
   */
  private async replaceWithSnapshot(snapshot: Snapshot, operations: Operation[]): Promise<number[]> {
    // The chain restarts at a snapshot from the leader: its link is derived from the snapshot itself.
    const link = snapshotLink(snapshot.meta);
    const record = await this.writeChunks(snapshot, link);
    assert((this.snapshotIndexes[this.snapshotIndexes.length - 1] ?? 0) === this.baseIndex, 'the newest stored snapshot must be the base of the stored log');
    addLogDeletions(operations, this.retainedFrom, this.baseIndex + this.links.length);
    const replaced = [...this.snapshotIndexes, ...this.damagedSnapshots].filter((index) => index !== snapshot.meta.index);
    for (const older of replaced) operations.push({ type: 'del', key: snapshotKey(older) });
    operations.push({ type: 'put', key: snapshotKey(snapshot.meta.index), value: encodeChunkedRecord(record) });
    this.compactDeletedLog(this.baseIndex + this.links.length);
    this.snapshotIndexes = [snapshot.meta.index];
    this.damagedSnapshots = [];
    this.baseIndex = snapshot.meta.index;
    this.retainedFrom = this.baseIndex + 1;
    this.baseLink = link;
    this.links = [];
    return replaced;
  }

  /** Every write goes through here: one LevelDB batch, or the power-cut journal in tests. */
  private write(operations: Operation[], sync: boolean): Promise<void> {
    return this.powerCut === undefined ? this.db.batch(operations, { sync }) : this.powerCut.writeLevel(this.db, operations, sync);
  }

  /**
   * After a wholesale deletion (a discarded store, a snapshot from the leader replacing the log),
   * asks LevelDB to reclaim the space now, off the write path, rather than when its own compaction
   * gets there. A compaction that fails only postpones reclaiming space: it loses nothing.
   */
  private compactDeletedLog(throughIndex: number): void {
    if (throughIndex <= 0) return;
    this.compaction = this.compaction.then(() => this.db.compactRange(logKey(0), logKey(throughIndex)).catch(() => undefined));
  }
}

/** The entry stored under `key`, checked against its index and the chain, or what is wrong with it. */
function verifyEntry(key: Uint8Array, value: Uint8Array, previousLink: Uint8Array, expectedIndex: number): { entry: Entry; link: Uint8Array } | string {
  try {
    const index = indexOfLogKey(key);
    if (index !== expectedIndex) return `log entry ${expectedIndex} is missing (found ${index} next)`;
    return decodeEntry(value, previousLink, expectedIndex);
  } catch (error) {
    return error instanceof StorageCorruptionError ? error.message : `log entry ${expectedIndex} does not decode`;
  }
}

function isHardState(value: unknown): value is HardState {
  const state = value as Partial<HardState> | null;
  // The vote goes into the acknowledged mark and back to the Raft core: a node id, or none.
  return (
    typeof state === 'object' &&
    state !== null &&
    Number.isSafeInteger(state.term) &&
    Number.isSafeInteger(state.commit) &&
    (state.vote === '' || isNodeId(state.vote))
  );
}

function snapshotRange(): { gte: Uint8Array; lt: Uint8Array } {
  return metaRange(SNAPSHOT_KEY_PREFIX);
}

/** The meta keys whose names start with `prefix` (names are hex digits and slashes after it). */
function metaRange(prefix: string): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: metaKey(prefix), lt: metaKey(`${prefix}~`) };
}

function logKey(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = LOG_PREFIX;
  new DataView(key.buffer).setBigUint64(1, BigInt(index));
  return key;
}

/** Appends one deletion per log entry from `from` through `through` (none when `through < from`). */
function addLogDeletions(operations: Operation[], from: number, through: number): void {
  for (let index = from; index <= through; index++) operations.push({ type: 'del', key: logKey(index) });
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

function snapshotKey(index: number): Uint8Array {
  return metaKey(SNAPSHOT_KEY_PREFIX + index.toString(16).padStart(16, '0'));
}

function snapshotChunkPrefix(index: number): string {
  return `${SNAPSHOT_CHUNK_KEY_PREFIX}${index.toString(16).padStart(16, '0')}/`;
}

function snapshotChunkKey(index: number, chunk: number): Uint8Array {
  return metaKey(snapshotChunkPrefix(index) + chunk.toString(16).padStart(8, '0'));
}

/** The chunks of the snapshot at `index`, in order. */
function snapshotChunkRange(index: number): { gte: Uint8Array; lt: Uint8Array } {
  return metaRange(snapshotChunkPrefix(index));
}

function allSnapshotChunksRange(): { gte: Uint8Array; lt: Uint8Array } {
  return metaRange(SNAPSHOT_CHUNK_KEY_PREFIX);
}

function indexOfSnapshotChunkKey(key: Uint8Array): number {
  const hex = new TextDecoder().decode(key.subarray(1 + SNAPSHOT_CHUNK_KEY_PREFIX.length, 1 + SNAPSHOT_CHUNK_KEY_PREFIX.length + 16));
  return Number.parseInt(hex, 16);
}

function indexOfSnapshotKey(key: Uint8Array): number {
  const hex = new TextDecoder().decode(key.subarray(1 + SNAPSHOT_KEY_PREFIX.length));
  const index = Number.parseInt(hex, 16);
  if (hex.length !== 16 || !Number.isSafeInteger(index)) throw new StorageCorruptionError('malformed snapshot key');
  return index;
}

function snapshotLink(meta: SnapshotMeta): Uint8Array {
  return new Uint8Array(checksumOf(encode(meta)));
}

/**
 * Snapshots used to be stored whole, in one record: this byte, a 16-byte checksum of the body, then
 * the body (msgpack of meta, data and link); before that, as msgpack of `{ body, checksum }`. Both
 * are still read (0xc1 never starts a msgpack value); new snapshots are chunked (chunked-snapshot.ts).
 */
const SNAPSHOT_RECORD_MARK = 0xc1;
const SNAPSHOT_HEADER_BYTES = 1 + CHECKSUM_BYTES;

/** A record's body and the checksum stored with it, in either layout. */
function snapshotRecordParts(bytes: Uint8Array): { body: Uint8Array; checksum: Uint8Array } {
  if (bytes[0] === SNAPSHOT_RECORD_MARK) return { body: bytes.subarray(SNAPSHOT_HEADER_BYTES), checksum: bytes.subarray(1, SNAPSHOT_HEADER_BYTES) };
  return decode(bytes) as { body: Uint8Array; checksum: Uint8Array };
}

/** The snapshot, or undefined when its bytes fail the checksum or do not even decode. */
function tryDecodeSnapshot(bytes: Uint8Array): { snapshot: Snapshot; link: Uint8Array } | undefined {
  try {
    const { body, checksum } = snapshotRecordParts(bytes);
    const actual = checksumOf(body);
    if (!Buffer.from(actual).equals(Buffer.from(checksum))) return undefined;
    const { meta, data, link } = decode(body) as { meta: SnapshotMeta; data: Uint8Array; link: Uint8Array };
    // The log is chained on from this link: one of another length could never be extended.
    if (!(link instanceof Uint8Array) || link.length !== LINK_BYTES) return undefined;
    return { snapshot: { meta, data }, link };
  } catch {
    return undefined;
  }
}
