import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry, Ready } from '../../../src/raft/index.ts';
import { encode } from '../../../src/shared/codec.ts';
import { type OpenedStorage, openNodeStorage } from '../../../src/storage/index.ts';
import { MARK_FILE_NAME, MarkFile } from '../../../src/storage/mark-file.ts';
import { ready } from '../../support/ready-builder.ts';

const entry = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: new TextEncoder().encode(`e${index}`) });

function readyOf(entries: Entry[], term = 2, vote = 'peer'): Ready {
  return ready({ hardState: { term, vote, commit: 0 }, entries });
}

describe('node storage: checked at start against the acknowledged mark', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-node-storage-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  /** Opens the directory, writes one ready per batch of entries (each one acknowledged), closes. */
  async function runWith(batches: Entry[][]): Promise<OpenedStorage> {
    const opened = await openNodeStorage(directory);
    for (const entries of batches) await opened.storage.save(readyOf(entries));
    await opened.storage.close();
    return opened;
  }

  /** Deletes log entries from `index` on behind the storage's back, as LevelDB dropping records would. */
  async function loseEntriesFrom(index: number): Promise<void> {
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    for await (const key of raw.keys({ gt: Uint8Array.of(0x6c), lt: Uint8Array.of(0x6d) })) {
      if (Number(new DataView(key.buffer, key.byteOffset).getBigUint64(1)) >= index) await raw.del(key);
    }
    await raw.close();
  }

  it('a wiped directory gets a fresh id: the node never votes under its old one (R12)', async () => {
    const first = await runWith([[entry(1, 1), entry(2, 2)]]);
    rmSync(directory, { recursive: true, force: true });
    const wiped = await openNodeStorage(directory);
    await wiped.storage.close();
    expect(wiped.id).not.toBe(first.id);
    expect(wiped.persisted).toEqual({ hardState: { term: 0, vote: '', commit: 0 }, entries: [] });
  });

  it('a restart with intact data changes nothing: same id, same log, not recovering', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2)]]);
    const again = await openNodeStorage(directory);
    await again.storage.close();
    expect(again.id).toBe(first.id);
    expect(again.persisted.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(again.persisted.recovery).toBeUndefined();
    expect(again.findings).toEqual([]);
  });

  it('a log that lost acknowledged entries is discarded, and the node keeps its id, term and vote and recovers (R11)', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2)], [entry(4, 2)]]);
    await loseEntriesFrom(3);
    const damaged = await openNodeStorage(directory);
    expect(damaged.id).toBe(first.id);
    expect(damaged.persisted).toEqual({ hardState: { term: 2, vote: 'peer', commit: 0 }, entries: [], recovery: { index: 4, term: 2 } });
    expect(damaged.findings.join('\n')).toMatch(/lacks what this node acknowledged/);
    // Still recovering after a restart before any repair: the lost end is kept in the mark.
    await damaged.storage.save(readyOf([entry(1, 1)]));
    await damaged.storage.close();
    const restarted = await openNodeStorage(directory);
    await restarted.storage.close();
    expect(restarted.persisted.recovery).toEqual({ index: 4, term: 2 });
    expect(restarted.persisted.entries.map((e) => e.index)).toEqual([1]);
  });

  it('a torn last write is not damage: the write before it is all that was acknowledged', async () => {
    await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2), entry(4, 2)]]);
    await loseEntriesFrom(3);
    const torn = await openNodeStorage(directory);
    await torn.storage.close();
    expect(torn.persisted.recovery).toBeUndefined();
    expect(torn.persisted.entries.map((e) => e.index)).toEqual([1, 2]);
  });

  it('once writes pause, losing even the last write is caught', async () => {
    const opened = await openNodeStorage(directory);
    for (const entries of [[entry(1, 1)], [entry(2, 2)], [entry(3, 2), entry(4, 2)]]) await opened.storage.save(readyOf(entries));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await opened.storage.close();
    await loseEntriesFrom(3);
    const damaged = await openNodeStorage(directory);
    await damaged.storage.close();
    expect(damaged.persisted.recovery).toEqual({ index: 4, term: 2 });
  });

  it('a log store wiped without the mark keeps the id from the mark and recovers', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2)]]);
    for (const name of readdirSync(directory)) if (name !== MARK_FILE_NAME) rmSync(join(directory, name), { recursive: true });
    const amnesic = await openNodeStorage(directory);
    await amnesic.storage.close();
    expect(amnesic.id).toBe(first.id);
    expect(amnesic.persisted).toMatchObject({ hardState: { term: 2, vote: 'peer' }, recovery: { index: 3, term: 2 } });
  });

  it('a log store LevelDB cannot open (truncated manifest) is moved aside, and the node recovers under its id', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2)]]);
    const manifest = readdirSync(directory).find((name) => name.startsWith('MANIFEST-'))!;
    truncateSync(join(directory, manifest), 10);
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.persisted).toMatchObject({ entries: [], recovery: { index: 3, term: 2 } });
    expect(reopened.findings.join('\n')).toMatch(/could not be read[\s\S]*lacks what this node acknowledged/);
    expect(readdirSync(join(directory, 'damaged-store'))).toContain(manifest);
  });

  /** Writes a raw key and value behind the storage's back, as a flipped bit LevelDB did not notice would leave them. */
  async function writeRaw(key: Uint8Array, value: Uint8Array): Promise<void> {
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    await raw.put(key, value);
    await raw.close();
  }

  it('a store whose keys do not decode (a flip LevelDB did not catch) is moved aside, and the node recovers under its id', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)], [entry(3, 2)]]);
    await writeRaw(Uint8Array.of(0x6c, 0), Uint8Array.of(9));
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.persisted).toMatchObject({ entries: [], recovery: { index: 3, term: 2 } });
    expect(reopened.findings.join('\n')).toMatch(/could not be read \(malformed log key\)/);
  });

  it('a damaged table the start would not otherwise read is found at start, not later by some read or compaction', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)]]);
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    await raw.put(new TextEncoder().encode('a-unread'), new TextEncoder().encode('compressible '.repeat(20_000)));
    await raw.compactRange(Uint8Array.of(0), Uint8Array.of(0xff));
    await raw.close();
    // The largest table holds the big value.
    const table = readdirSync(directory)
      .filter((name) => name.endsWith('.ldb'))
      .sort((a, b) => statSync(join(directory, b)).size - statSync(join(directory, a)).size)[0]!;
    const bytes = readFileSync(join(directory, table));
    for (let at = 100; at < bytes.length - 200; at += 97) bytes[at] = bytes[at]! ^ 0x5a;
    writeFileSync(join(directory, table), bytes);
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.findings.join('\n')).toMatch(/could not be read/);
    expect(reopened.persisted.recovery).toEqual({ index: 2, term: 2 });
  });

  it("a store naming another node than the mark is not used: the node recovers under the mark's id", async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)]]);
    await writeRaw(new TextEncoder().encode('mnode-id'), new TextEncoder().encode('someone-else'));
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.persisted).toMatchObject({ entries: [], recovery: { index: 2, term: 2 } });
    expect(reopened.findings.join('\n')).toMatch(/names node someone-else/);
  });

  it('a store whose node id is no node id is not used, even without a mark to compare it with', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)]]);
    rmSync(join(directory, MARK_FILE_NAME));
    // Believed, it would have become this node's id, and gone into a mark that has no room for it.
    await writeRaw(new TextEncoder().encode('mnode-id'), new TextEncoder().encode('x'.repeat(600)));
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toMatch(/^[0-9a-f]{12}$/);
    expect(reopened.id).not.toBe(first.id);
    expect(reopened.persisted.entries).toEqual([]);
    expect(reopened.findings.join('\n')).toMatch(/node id is not a node id/);
  });

  it('a stored vote that is no node id is garbled: the term and vote are taken from the mark', async () => {
    await runWith([[entry(1, 1)], [entry(2, 2)]]);
    // Believed, it would have gone into the mark, which has no room for it.
    await writeRaw(new TextEncoder().encode('mraft/hardstate'), encode({ term: 9, vote: 'x'.repeat(600), commit: 0 }));
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.persisted.hardState).toMatchObject({ term: 2, vote: 'peer' });
    expect(reopened.findings.join('\n')).toMatch(/hard state does not decode/);
  });

  it('a store LevelDB reported corrupt while running is moved aside on reopen, and the node recovers', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)]]);
    const reopened = await openNodeStorage(directory, { discardStore: true });
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.persisted).toMatchObject({ entries: [], recovery: { index: 2, term: 2 } });
    expect(reopened.findings.join('\n')).toMatch(/reported corruption while running/);
  });

  it('a vote the store lost or garbled in the same term is taken from the mark', async () => {
    await runWith([[entry(1, 1)], [entry(2, 2)]]);
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    await raw.put(new Uint8Array([0x6d, ...new TextEncoder().encode('raft/hardstate')]), Uint8Array.of(0xc1));
    await raw.close();
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.persisted.hardState).toMatchObject({ term: 2, vote: 'peer' });
    expect(reopened.persisted.recovery).toBeUndefined();
  });

  it('a damaged mark file is reported, and the log, if sound, is trusted as it is', async () => {
    const first = await runWith([[entry(1, 1)], [entry(2, 2)]]);
    writeFileSync(join(directory, MARK_FILE_NAME), new Uint8Array(1024).fill(0x5a));
    const reopened = await openNodeStorage(directory);
    await reopened.storage.close();
    expect(reopened.id).toBe(first.id);
    expect(reopened.persisted.recovery).toBeUndefined();
    expect(reopened.findings.join('\n')).toMatch(/mark file is damaged/);
  });
});

describe('mark file', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-mark-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  const mark = (index: number) => ({ id: 'n1', term: 2, vote: '', previous: { index: index - 1, term: 2 }, current: { index, term: 2 } });

  it('keeps the previous mark when the newest slot is torn', async () => {
    const path = join(directory, MARK_FILE_NAME);
    const { file } = await MarkFile.open(path);
    await file.write(mark(1));
    await file.write(mark(2));
    await file.close();
    const bytes = readFileSync(path);
    bytes[0] = bytes[0]! ^ 0xff; // the slot of the second write (sequence 2 is in slot 0)
    writeFileSync(path, bytes);
    const { file: reopened, contents } = await MarkFile.open(path);
    await reopened.close();
    expect(contents).toEqual({ mark: mark(1), damaged: false, slotDamaged: true });
  });

  it('reports a missing second slot once both were written, but not after a single write', async () => {
    const path = join(directory, MARK_FILE_NAME);
    const { file } = await MarkFile.open(path);
    await file.write(mark(1));
    await file.close();
    const once = await MarkFile.open(path);
    await once.file.close();
    expect(once.contents).toEqual({ mark: mark(1), damaged: false, slotDamaged: false });
    const { file: again } = await MarkFile.open(path);
    await again.write(mark(2));
    await again.write(mark(3));
    await again.close();
    truncateSync(path, readFileSync(path).length / 2);
    const truncated = await MarkFile.open(path);
    await truncated.file.close();
    expect(truncated.contents.slotDamaged).toBe(true);
    expect(truncated.contents.mark).toBeDefined();
  });
});
