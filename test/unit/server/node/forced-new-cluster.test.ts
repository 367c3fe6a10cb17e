import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueueCommand, QueueStateMachine, recordOf } from '../../../../src/queue/index.ts';
import { bootstrapState, type Entry } from '../../../../src/raft/index.ts';
import { FORCED_MARKER_FILE, forceNewCluster } from '../../../../src/server/node/forced-new-cluster.ts';
import { seedRestoredDirectory } from '../../../../src/server/node/restored-directory.ts';
import { decode, encode } from '../../../../src/shared/codec.ts';
import { MemoryStorage, type OpenedStorage, openNodeStorage } from '../../../../src/storage/index.ts';
import { ready } from '../../../support/ready-builder.ts';

// Goal: a forced start takes the whole log as committed and rewrites the node as a cluster of one,
// at the index after its last, in a term above any it held, under founders no old node holds; the
// flag given again is refused until the marker is deleted; a restored directory is the same kind
// of cluster of one, at the backup's index.
const log = pino({ level: 'silent' });
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'quorumq-forced-'));
  directories.push(directory);
  return directory;
}

function enqueueEntry(index: number, term: number, body: string): Entry {
  const command: QueueCommand = { type: 'enqueue', ts: 1_000, queue: 'q', messages: [{ body, priority: 0, delayMs: 0, bytes: body.length + 2 }] };
  return { index, term, kind: 'normal', data: encode(recordOf([command])) };
}

/** A logger whose lines are kept, to check what a forced start says. */
function recordingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }), lines };
}

/** A founder of a three-node cluster with three enqueues, the last beyond its commit index. */
async function oldClusterNode(directory: string, voter = true): Promise<string> {
  const opened = await openNodeStorage(directory);
  const founded = bootstrapState({ voters: voter ? [opened.id, 'peer-b', 'peer-c'] : ['peer-a', 'peer-b', 'peer-c'], learners: [] });
  const entries = [...founded.entries, enqueueEntry(2, 2, 'one'), enqueueEntry(3, 2, 'two'), enqueueEntry(4, 3, 'three')];
  await opened.storage.save(ready({ hardState: { term: 4, vote: opened.id, commit: 3 }, entries }));
  await opened.storage.putMeta('founders', encode([opened.id, 'peer-b', 'peer-c']));
  await opened.storage.close();
  return opened.id;
}

function markerExists(directory: string): boolean {
  try {
    readFileSync(join(directory, FORCED_MARKER_FILE));
    return true;
  } catch {
    return false;
  }
}

function bodiesOf(data: Uint8Array): unknown[] {
  const machine = new QueueStateMachine();
  machine.restore(data);
  return (machine.peek('q', 'ready', 10, -1)?.messages ?? []).map((message) => message.body);
}

describe('forceNewCluster', () => {
  it('rewrites the node as a cluster of one after its whole log, under new founders', async () => {
    const directory = freshDirectory();
    const id = await oldClusterNode(directory);
    const opened = await openNodeStorage(directory);
    await forceNewCluster(opened, directory, log);
    await opened.storage.close();

    const reopened = await openNodeStorage(directory);
    try {
      const { persisted } = reopened;
      expect(reopened.id).toBe(id);
      expect(persisted.entries).toEqual([]);
      expect(persisted.recovery).toBeUndefined();
      expect(persisted.snapshot?.meta).toEqual({ index: 5, term: 5, membership: { voters: [id], learners: [] } });
      expect(persisted.hardState).toMatchObject({ term: 5, commit: 5 });
      // The entry beyond the old commit index is taken as committed.
      expect(bodiesOf(persisted.snapshot!.data)).toEqual(['one', 'two', 'three']);
      const founders = decode((await reopened.storage.getMeta('founders'))!) as string[];
      expect(founders[0]).toBe(id);
      expect(founders).toHaveLength(2);
      expect(founders).not.toEqual([id, 'peer-b', 'peer-c']);
      expect(founders[1]).toMatch(/^refounded\.[0-9a-f]{16}$/);
    } finally {
      await reopened.storage.close();
    }
  });

  it('refuses the flag a second time, until the marker is deleted', async () => {
    const directory = freshDirectory();
    await oldClusterNode(directory);
    const first = await openNodeStorage(directory);
    await forceNewCluster(first, directory, log);
    await first.storage.close();

    const second = await openNodeStorage(directory);
    await expect(forceNewCluster(second, directory, log)).rejects.toThrow(/already carried out on this data directory/);
    unlinkSync(join(directory, FORCED_MARKER_FILE));
    await forceNewCluster(second, directory, log);
    await second.storage.close();
    const third = await openNodeStorage(directory);
    expect(third.persisted.snapshot?.meta).toMatchObject({ index: 6, term: 6 });
    await third.storage.close();
  });

  it('finishes a refounding that stopped after its marker and before the new state, under the founders it chose', async () => {
    const directory = freshDirectory();
    const id = await oldClusterNode(directory);
    // What a forced start wrote before the crash: the new founders, then the marker; not the state.
    const chosen = [id, 'refounded.00112233445566ff'];
    const opened = await openNodeStorage(directory);
    await opened.storage.putMeta('founders', encode(chosen));
    writeFileSync(join(directory, FORCED_MARKER_FILE), JSON.stringify({ founders: chosen, index: 5, term: 5, at: '2026-01-01T00:00:00.000Z' }));
    await forceNewCluster(opened, directory, log);
    await opened.storage.close();

    const reopened = await openNodeStorage(directory);
    try {
      expect(reopened.persisted.snapshot?.meta).toEqual({ index: 5, term: 5, membership: { voters: [id], learners: [] } });
      expect(bodiesOf(reopened.persisted.snapshot!.data)).toEqual(['one', 'two', 'three']);
      expect(decode((await reopened.storage.getMeta('founders'))!)).toEqual(chosen);
      expect(JSON.parse(readFileSync(join(directory, FORCED_MARKER_FILE), 'utf8'))).toMatchObject({ founders: chosen, index: 5, term: 5 });
      // Now it is done: the flag again is refused.
      await expect(forceNewCluster(reopened, directory, log)).rejects.toThrow(/already carried out on this data directory/);
    } finally {
      await reopened.storage.close();
    }
  });

  it('writes the marker after the new founders and before the new state', async () => {
    const directory = freshDirectory();
    await oldClusterNode(directory);
    const opened = await openNodeStorage(directory);
    const order: string[] = [];
    const storage = opened.storage;
    const watched = new Proxy(storage, {
      get(target, property, receiver) {
        if (property === 'putMeta' || property === 'save') {
          return async (...args: unknown[]) => {
            order.push(`${String(property)}${property === 'putMeta' ? `:${String(args[0])}` : ''}`);
            order.push(`marker:${markerExists(directory)}`);
            return (Reflect.get(target, property, receiver) as (...a: unknown[]) => Promise<void>).apply(target, args);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    await forceNewCluster({ ...opened, storage: watched }, directory, log);
    await storage.close();
    expect(order).toEqual(['putMeta:founders', 'marker:false', 'save', 'marker:true']);
  });

  it('refuses a node whose log was discarded as damaged, saying so, and warns when the survivor was no voter', async () => {
    const damaged: OpenedStorage = {
      id: 'n1',
      storage: new MemoryStorage(),
      persisted: { hardState: { term: 3, vote: '', commit: 0 }, entries: [], recovery: { index: 9, term: 3 } },
      damagedSnapshots: [],
      findings: [],
    };
    await expect(forceNewCluster(damaged, freshDirectory(), log)).rejects.toThrow(/log was discarded as damaged/);

    const directory = freshDirectory();
    await oldClusterNode(directory, false);
    const opened = await openNodeStorage(directory);
    const recording = recordingLog();
    await forceNewCluster(opened, directory, recording.log);
    await opened.storage.close();
    expect(recording.lines.some((line) => line.includes('was not a voter of its last configuration'))).toBe(true);
  });

  it('refuses a data directory that holds no cluster state', async () => {
    const directory = freshDirectory();
    const opened = await openNodeStorage(directory);
    await expect(forceNewCluster(opened, directory, log)).rejects.toThrow(/no cluster state/);
    await opened.storage.close();
  });
});

describe('seedRestoredDirectory', () => {
  it('makes a new node a cluster of one at the backup index under new founders, and refuses a state that does not decode', async () => {
    const machine = new QueueStateMachine();
    machine.apply({ type: 'enqueue', ts: 1_000, queue: 'q', messages: [{ body: 'kept', priority: 0, delayMs: 0, bytes: 6 }] });
    const directory = freshDirectory();
    const { id, founders } = await seedRestoredDirectory(directory, { data: machine.snapshot(), index: 40, term: 7 });
    const opened = await openNodeStorage(directory);
    try {
      expect(opened.id).toBe(id);
      expect(opened.persisted.snapshot?.meta).toEqual({ index: 40, term: 7, membership: { voters: [id], learners: [] } });
      expect(bodiesOf(opened.persisted.snapshot!.data)).toEqual(['kept']);
      expect(decode((await opened.storage.getMeta('founders'))!)).toEqual(founders);
    } finally {
      await opened.storage.close();
    }
    await expect(seedRestoredDirectory(freshDirectory(), { data: Uint8Array.of(0xc1, 1, 2), index: 40, term: 7 })).rejects.toThrow(/does not decode/);
  });

  it('seeds beside the directory and renames it into place: never a half-seeded directory, nothing left over', async () => {
    const machine = new QueueStateMachine();
    const parent = freshDirectory();
    const target = join(parent, 'restored');
    await seedRestoredDirectory(target, { data: machine.snapshot(), index: 3, term: 1 });
    expect(readdirSync(parent)).toEqual(['restored']);
    const opened = await openNodeStorage(target);
    expect(opened.persisted.snapshot?.meta.index).toBe(3);
    await opened.storage.close();
    // A directory that gained a file meanwhile is not replaced, and the seeded copy goes.
    const busy = join(parent, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep'), 'x');
    await expect(seedRestoredDirectory(busy, { data: machine.snapshot(), index: 3, term: 1 })).rejects.toThrow();
    expect(readdirSync(busy)).toEqual(['keep']);
    expect(readdirSync(parent).sort()).toEqual(['busy', 'restored']);
  });
});
