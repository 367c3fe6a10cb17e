import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Raft, Snapshot } from '../../../src/raft/index.ts';
import { LocalSnapshots } from '../../../src/server/local-snapshots.ts';

const ENTRIES_BETWEEN = 1000;

/** A node's snapshotting with a fixed draw: applies entries one by one and records where it snapshots. */
function node(draw: number): { apply: (through: number) => Promise<void>; taken: number[] } {
  const taken: number[] = [];
  let applied = 0;
  let firstIndex = 1;
  const raft = {
    snapshotMetaAt: (index: number) => ({ index, term: 1, membership: { voters: ['a'], learners: [] } }),
    status: () => ({ firstIndex }),
    compact: (snapshot: Snapshot) => {
      firstIndex = snapshot.meta.index + 1;
      taken.push(snapshot.meta.index);
    },
  } as unknown as Raft;
  const snapshots = new LocalSnapshots({
    entriesBetween: ENTRIES_BETWEEN,
    bytesBetween: Number.MAX_SAFE_INTEGER,
    submit: (input) => input(raft),
    appliedIndex: () => applied,
    encodeState: () => Uint8Array.of(1),
    save: () => Promise.resolve(),
    onSaveFailed: (error) => {
      throw error;
    },
    log: pino({ level: 'silent' }),
    random: () => draw,
  });
  return {
    taken,
    apply: async (through) => {
      while (applied < through) {
        applied++;
        snapshots.onApplied(applied, 100);
        // The save resolves on a later microtask; the compaction follows it.
        await Promise.resolve();
        await Promise.resolve();
      }
    },
  };
}

describe('LocalSnapshots', () => {
  it('snapshots every interval, cut short by up to a quarter by the draw, so nodes applying the same entries snapshot apart', async () => {
    const nodes = [node(0), node(0.5), node(0.999)];
    for (const each of nodes) await each.apply(3000);
    expect(nodes[0]!.taken).toEqual([1000, 2000, 3000]);
    expect(nodes[1]!.taken).toEqual([875, 1750, 2625]);
    expect(nodes[2]!.taken[0]).toBe(751);
    expect(new Set(nodes.map((each) => each.taken[0])).size).toBe(3);
  });
});
