import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Raft, Snapshot } from '../../../../src/raft/index.ts';
import { LocalSnapshots } from '../../../../src/server/replication/local-snapshots.ts';

const ENTRIES_BETWEEN = 1000;

/** Lets the event loop turn `count` times: an encoding takes one slice per turn. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A node's snapshotting with a fixed draw: applies entries one by one and records where it snapshots. */
interface NodeSettings {
  readonly stepsPerSnapshot?: number;
  readonly bytesBetween?: number;
  /** Size of each snapshot's data. */
  readonly snapshotBytes?: number;
}

function node(
  draw: number,
  settings: NodeSettings = {},
): { apply: (through: number) => Promise<void>; taken: number[]; saved: number[]; released: { count: number }; snapshots: LocalSnapshots } {
  const { stepsPerSnapshot = 1, bytesBetween = Number.MAX_SAFE_INTEGER, snapshotBytes = 1 } = settings;
  const taken: number[] = [];
  const saved: number[] = [];
  const released = { count: 0 };
  let applied = 0;
  let firstIndex = 1;
  const raft = {
    snapshotMetaAt: (index: number) => ({ index, term: 1, membership: { voters: ['a'], learners: [] } }),
    status: () => ({ firstIndex, applied }),
    compact: (snapshot: Snapshot) => {
      firstIndex = snapshot.meta.index + 1;
      taken.push(snapshot.meta.index);
    },
  } as unknown as Raft;
  const snapshots = new LocalSnapshots({
    entriesBetween: bytesBetween === Number.MAX_SAFE_INTEGER ? ENTRIES_BETWEEN : Number.MAX_SAFE_INTEGER,
    bytesBetween,
    submit: (input) => input(raft),
    appliedIndex: () => applied,
    encodeState: () => {
      let left = stepsPerSnapshot;
      return {
        step: () => --left <= 0,
        bytes: () => new Uint8Array(snapshotBytes),
        release: () => {
          released.count++;
        },
      };
    },
    save: (snapshot) => {
      saved.push(snapshot.meta.index);
      return Promise.resolve();
    },
    onSaveFailed: (error) => {
      throw error;
    },
    log: pino({ level: 'silent' }),
    random: () => draw,
  });
  return {
    taken,
    saved,
    released,
    snapshots,
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

  it('encodes over several turns, and drops a snapshot whose queues a snapshot from the leader replaced meanwhile', async () => {
    const follower = node(0, { stepsPerSnapshot: 5 });
    await follower.apply(1000);
    follower.snapshots.onInstalled({ meta: { index: 1500, term: 1, membership: { voters: ['a'], learners: [] } }, data: Uint8Array.of(2) });
    await turns(10);
    expect(follower.saved).toEqual([]);
    // What the dropped encoding held of the live queues is let go.
    expect(follower.released.count).toBe(1);
    const steady = node(0, { stepsPerSnapshot: 5 });
    await steady.apply(1000);
    await turns(2);
    expect(steady.saved).toEqual([]);
    await turns(8);
    expect(steady.saved).toEqual([1000]);
    expect(steady.taken).toEqual([1000]);
  });

  it('stretches the log between snapshots to half the last snapshot, up to eight times the configured bytes', async () => {
    // 100 log bytes per entry, 1,000 bytes configured between snapshots.
    const small = node(0, { bytesBetween: 1000, snapshotBytes: 500 });
    await small.apply(40);
    expect(small.taken).toEqual([10, 20, 30, 40]);
    const large = node(0, { bytesBetween: 1000, snapshotBytes: 5000 });
    await large.apply(70);
    expect(large.taken).toEqual([10, 35, 60]);
    const huge = node(0, { bytesBetween: 1000, snapshotBytes: 50_000 });
    await huge.apply(170);
    expect(huge.taken).toEqual([10, 90, 170]);
  });

  it("lets a take go when the core has moved past this node's state (a leader's snapshot stepped in, not yet applied), and snapshots later as usual", async () => {
    // Found by chaos (seed 7003, a 5 s pause of a follower): the take ran with the core's log already
    // restored from a leader's snapshot at a higher index, and the core asserted.
    const queued: ((raft: Raft) => void)[] = [];
    let applied = 0;
    let core = { firstIndex: 1, applied: 0 };
    const taken: number[] = [];
    const raft = {
      snapshotMetaAt: (index: number) => {
        if (index < core.firstIndex - 1 || index > core.applied) throw new Error('snapshot index outside the applied log');
        return { index, term: 1, membership: { voters: ['a'], learners: [] } };
      },
      status: () => core,
      compact: (snapshot: Snapshot) => {
        core = { ...core, firstIndex: snapshot.meta.index + 1 };
        taken.push(snapshot.meta.index);
      },
    } as unknown as Raft;
    const snapshots = new LocalSnapshots({
      entriesBetween: ENTRIES_BETWEEN,
      bytesBetween: Number.MAX_SAFE_INTEGER,
      submit: (input) => {
        queued.push(input);
      },
      appliedIndex: () => applied,
      encodeState: () => ({ step: () => true, bytes: () => new Uint8Array(1), release: () => undefined }),
      save: () => Promise.resolve(),
      onSaveFailed: (error) => {
        throw error;
      },
      log: pino({ level: 'silent' }),
      random: () => 0,
    });
    const runQueued = async () => {
      while (queued.length > 0) {
        queued.shift()!(raft);
        await turns(2);
      }
    };
    for (applied = 1; applied <= ENTRIES_BETWEEN; applied++) {
      core = { ...core, applied };
      snapshots.onApplied(applied, 100);
    }
    applied = ENTRIES_BETWEEN;
    // Before the take runs, the core restores a leader's snapshot at 1500 that this node has not applied.
    core = { firstIndex: 1501, applied: 1500 };
    await runQueued();
    expect(taken).toEqual([]);
    // The snapshot is installed here; the next interval is taken as usual.
    applied = 1500;
    snapshots.onInstalled({ meta: { index: 1500, term: 1, membership: { voters: ['a'], learners: [] } }, data: Uint8Array.of(1) });
    for (applied = 1501; applied <= 1500 + ENTRIES_BETWEEN; applied++) {
      core = { ...core, applied };
      snapshots.onApplied(applied, 100);
    }
    applied = 1500 + ENTRIES_BETWEEN;
    await runQueued();
    expect(taken).toEqual([2500]);
  });
});
