import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry, Ready } from '../../../src/raft/index.ts';
import { openNodeStorage, PowerCut } from '../../../src/storage/index.ts';
import { undoPowerCut } from '../../../src/storage/power-cut.ts';
import { ready } from '../../support/ready-builder.ts';

const entry = (index: number): Entry => ({ index, term: 2, kind: 'normal', data: new TextEncoder().encode(`e${index}`) });

function readyOf(entries: Entry[]): Ready {
  return ready({ hardState: { term: 2, vote: 'peer', commit: 0 }, entries });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}

// RELIABILITY #11: a power cut loses every write that no completed fsync covered, and nothing else.
describe('simulated power cut', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-power-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('loses the write under way (LevelDB batch and mark alike) and keeps every completed one', async () => {
    const cut = new PowerCut(directory, () => undefined);
    const opened = await openNodeStorage(directory, { powerCut: cut });
    await opened.storage.save(readyOf([entry(1), entry(2)]));
    // The mark's write is held until the cut, so that both writes are under way when it comes.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const writeMark = cut.writeMark.bind(cut);
    cut.writeMark = (path, offset, before, write) =>
      writeMark(path, offset, before, async () => {
        await held;
        await write();
      });
    const inFlight = opened.storage.save(readyOf([entry(3)]));
    await until(() => cut.uncovered === 2);
    cut.cut();
    release();
    // The process would be dead; here the write goes on and lands, and the restart must undo it.
    await inFlight;
    await opened.storage.close();
    const restarted = await openNodeStorage(directory);
    await restarted.storage.close();
    expect(restarted.persisted.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(restarted.persisted.recovery).toBeUndefined();
    expect(restarted.findings.join('\n')).toMatch(/simulated power cut: \d+ LevelDB keys and 1 mark writes/);
  });

  it('keeps a write that an fsync covered, and loses an unsynced one that none did', async () => {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    const cut = new PowerCut(directory, () => undefined);
    const key = (name: string) => new TextEncoder().encode(name);
    const value = Uint8Array.of(1);
    await cut.writeLevel(db, [{ type: 'put', key: key('a'), value }], false);
    await cut.writeLevel(db, [{ type: 'put', key: key('b'), value }], true);
    await cut.writeLevel(db, [{ type: 'put', key: key('c'), value }], false);
    cut.cut();
    await db.close();
    await undoPowerCut(directory);
    const reopened = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    expect(await reopened.getMany([key('a'), key('b'), key('c')])).toEqual([expect.anything(), expect.anything(), undefined]);
    await reopened.close();
  });
});
