import { describe, expect, it } from 'vitest';
import type { Message, Snapshot } from '../../../src/raft/index.ts';
import { bytes, Cluster, diskWith, entry, is, lonelyFollower, THREE, THREE_VOTERS } from './harness.ts';

const SNAPSHOT_TIMEOUT_TICKS = 20;

/** n1 leads; n3 missed a, b, c while down, and n1 has compacted them away. */
function compactedBehindN3(): Cluster {
  const cluster = new Cluster({ voters: THREE, config: { snapshotTimeoutTicks: SNAPSHOT_TIMEOUT_TICKS } });
  cluster.elect('n1');
  cluster.crash('n3');
  for (const value of ['a', 'b', 'c']) cluster.propose('n1', value);
  cluster.deliver();
  cluster.compact('n1');
  expect(cluster.status('n1').firstIndex).toBe(6);
  cluster.restart('n3');
  return cluster;
}

function snapshotMessage(snapshot: Snapshot): Message {
  return { type: 'snapshot', from: 'n1', to: 'n2', term: 2, snapshot };
}

function snapshotAt(index: number, term: number): Snapshot {
  return { meta: { index, term, membership: THREE_VOTERS }, data: bytes('state') };
}

describe('snapshots', () => {
  it('a follower behind the first index gets a snapshot, installs it, and replication resumes', () => {
    const cluster = compactedBehindN3();
    cluster.tick('n1');
    cluster.deliver();
    expect(cluster.node('n3').installedSnapshots.map((s) => s.meta.index)).toEqual([5]);
    expect(cluster.status('n3')).toMatchObject({ firstIndex: 6, lastIndex: 5, commit: 5, applied: 5 });
    expect(cluster.progressOf('n1', 'n3')).toMatchObject({ state: 'replicate', match: 5 });
    cluster.propose('n1', 'd');
    cluster.deliver();
    cluster.tick('n1');
    cluster.deliver();
    expect(cluster.appliedData('n3')).toEqual(['d']);
    expect(cluster.status('n3').commit).toBe(6);
  });

  it('an installed snapshot survives a restart', () => {
    const cluster = compactedBehindN3();
    cluster.tick('n1');
    cluster.deliver();
    cluster.restart('n3');
    expect(cluster.status('n3')).toMatchObject({ firstIndex: 6, commit: 5, membership: { voters: THREE } });
  });

  it('resends a lost snapshot after snapshotTimeoutTicks, not before', () => {
    const cluster = compactedBehindN3();
    const snapshotsSent = (): number => cluster.sent.filter(is('snapshot', { to: 'n3' })).length;
    const tickDroppingSnapshots = (): void => {
      cluster.tick('n1');
      cluster.deliver((m) => m.type !== 'snapshot');
      cluster.drop(is('snapshot'));
    };
    tickDroppingSnapshots();
    expect(snapshotsSent()).toBe(1);
    for (let i = 0; i < SNAPSHOT_TIMEOUT_TICKS; i++) tickDroppingSnapshots();
    expect(snapshotsSent()).toBe(1);
    for (let i = 0; i < 3; i++) tickDroppingSnapshots();
    expect(snapshotsSent()).toBe(2);
  });

  it.each([
    { follower: 'holding that entry', disk: diskWith([2, 2], { term: 2, commit: 3 }), firstIndex: 1 },
    {
      follower: 'having compacted past it',
      disk: { hardState: { term: 2, vote: '', commit: 3 }, snapshot: snapshotAt(3, 2), entries: [entry(4, 2)] },
      firstIndex: 4,
    },
  ])('ignores a snapshot older than its commit index, $follower, and answers with that index', ({ disk, firstIndex }) => {
    const cluster = lonelyFollower(disk);
    const before = cluster.status('n2');
    cluster.inject(snapshotMessage(snapshotAt(2, 2)));
    expect(cluster.node('n2').installedSnapshots).toEqual([]);
    expect(cluster.status('n2')).toMatchObject({ firstIndex, lastIndex: before.lastIndex, commit: 3 });
    expect(cluster.drop(is('appendResponse', { to: 'n1' }))).toMatchObject([{ reject: false, index: 3 }]);
  });

  it('a snapshot whose last entry the follower already holds only advances its commit', () => {
    const cluster = lonelyFollower(diskWith([2, 2, 2], { term: 2 }));
    cluster.inject(snapshotMessage(snapshotAt(3, 2)));
    expect(cluster.node('n2').installedSnapshots).toEqual([]);
    expect(cluster.status('n2')).toMatchObject({ firstIndex: 1, lastIndex: 4, commit: 3 });
    expect(cluster.appliedData('n2')).toEqual(['e2t2', 'e3t2']);
  });

  it('a snapshot that conflicts with the follower log replaces the whole log', () => {
    const cluster = lonelyFollower(diskWith([1, 1, 1], { term: 1 }));
    cluster.inject(snapshotMessage(snapshotAt(3, 2)));
    expect(cluster.node('n2').installedSnapshots.map((s) => s.meta)).toEqual([snapshotAt(3, 2).meta]);
    expect(cluster.status('n2')).toMatchObject({ firstIndex: 4, lastIndex: 3, commit: 3, term: 2, leader: 'n1' });
    expect(cluster.appliedData('n2')).toEqual([]);
  });

  it('refuses to compact entries the application has not applied', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.elect('n1');
    const applied = cluster.status('n1').applied;
    expect(() => cluster.raft('n1').snapshotMetaAt(applied + 1)).toThrow(/applied/);
  });
});
