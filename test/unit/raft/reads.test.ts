import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/index.ts';
import { between, Cluster, ELECTION_TICKS, FIVE, is, THREE } from './harness.ts';

function read(cluster: Cluster, id: string, context: string): void {
  cluster.on(id, (raft) => raft.readIndex(context));
}

/** n1 leads with one proposal committed everywhere, so a read has a non-trivial index to wait for. */
function ledCluster(config = {}, voters: readonly string[] = THREE): Cluster {
  const cluster = new Cluster({ voters, config });
  cluster.elect('n1');
  cluster.propose('n1', 'a');
  cluster.deliver();
  return cluster;
}

describe('ReadIndex (thesis §6.4)', () => {
  it('a new leader holds a read until it has committed an entry of its own term', () => {
    const cluster = new Cluster({ voters: THREE });
    cluster.campaign('n1');
    cluster.deliver((m) => m.type !== 'append');
    expect(cluster.status('n1')).toMatchObject({ role: 'leader', commit: 1 });
    read(cluster, 'n1', 'r1');
    expect(cluster.node('n1').readStates).toEqual([]);
    expect(cluster.queue.filter((m) => m.type === 'heartbeat' && m.readContext === 'r1')).toEqual([]);
    cluster.deliver();
    expect(cluster.node('n1').readStates).toEqual([{ context: 'r1', index: 2 }]);
  });

  it('serves a read at the commit index once a majority answers a heartbeat sent after it', () => {
    const cluster = ledCluster({}, FIVE);
    read(cluster, 'n1', 'r1');
    const heartbeatWith =
      (peer: string) =>
      (m: Message): boolean =>
        (m.type === 'heartbeat' || m.type === 'heartbeatResponse') && between('n1', peer)(m);
    cluster.deliver(heartbeatWith('n2'));
    expect(cluster.node('n1').readStates).toEqual([]);
    cluster.deliver(heartbeatWith('n3'));
    expect(cluster.node('n1').readStates).toEqual([{ context: 'r1', index: 3 }]);
  });

  it('never serves a read without a majority, however long it waits', () => {
    const cluster = ledCluster();
    cluster.isolate('n2', 'n3');
    read(cluster, 'n1', 'r1');
    for (let i = 0; i < ELECTION_TICKS - 1; i++) {
      cluster.tick('n1');
      cluster.deliver();
    }
    expect(cluster.node('n1').readStates).toEqual([]);
  });

  it('a later confirmed round also releases the reads queued before it', () => {
    const cluster = ledCluster();
    read(cluster, 'n1', 'r1');
    read(cluster, 'n1', 'r2');
    cluster.drop((m) => m.type === 'heartbeat' && m.readContext === 'r1');
    cluster.deliver();
    expect(cluster.node('n1').readStates.map((r) => r.context)).toEqual(['r1', 'r2']);
  });

  it('a single voter serves a read at once', () => {
    const cluster = new Cluster({ voters: ['n1'] });
    cluster.campaign('n1');
    read(cluster, 'n1', 'r1');
    expect(cluster.node('n1').readStates).toEqual([{ context: 'r1', index: 2 }]);
  });

  it("a follower forwards a read to the leader and gets back the leader's commit index to wait for", () => {
    const cluster = ledCluster();
    cluster.propose('n1', 'b');
    // n2 stores b but has not yet heard that it committed: its own commit index is behind.
    cluster.deliver((m) => m.type !== 'append' || m.entries.length > 0);
    cluster.drop();
    expect([cluster.status('n1').commit, cluster.status('n2').commit]).toEqual([4, 3]);
    read(cluster, 'n2', 'f1');
    expect(cluster.queue.filter(is('readIndex', { from: 'n2', to: 'n1' }))).toHaveLength(1);
    // The round is confirmed by n3; n2 hears nothing but the answer, so it still lags when served.
    cluster.deliver((m) => m.to !== 'n2' || m.type === 'readIndexResponse');
    expect(cluster.status('n2').commit).toBe(3);
    expect(cluster.node('n2').readStates).toEqual([{ context: 'f1', index: 4 }]);
    expect(cluster.node('n1').readStates).toEqual([]);
  });

  it('a node that knows no leader fails a read at once with NOT_LEADER', () => {
    const cluster = new Cluster({ voters: THREE });
    read(cluster, 'n2', 'r1');
    expect(cluster.node('n2').readFailures).toEqual([{ context: 'r1', code: 'NOT_LEADER' }]);
    expect(cluster.queue).toEqual([]);
  });

  describe('when leadership is lost with reads pending', () => {
    /** n1 holds its own read r1 and n2's forwarded f1, then CheckQuorum deposes it before any answer. */
    function deposedWithReads(): Cluster {
      const cluster = ledCluster();
      read(cluster, 'n1', 'r1');
      read(cluster, 'n2', 'f1');
      cluster.deliver(is('readIndex'));
      cluster.drop();
      for (let i = 0; i < 2 * ELECTION_TICKS && cluster.status('n1').role === 'leader'; i++) {
        cluster.tick('n1');
        cluster.drop((m) => m.type !== 'readIndexResponse');
      }
      expect(cluster.status('n1').role).toBe('follower');
      cluster.deliver();
      return cluster;
    }

    it('a read forwarded by a follower fails there with NOT_LEADER', () => {
      const cluster = deposedWithReads();
      expect(cluster.node('n2').readFailures).toEqual([{ context: 'f1', code: 'NOT_LEADER' }]);
      expect(cluster.node('n2').readStates).toEqual([]);
    });

    it("the deposed leader's own read fails with NOT_LEADER", () => {
      const cluster = deposedWithReads();
      expect(cluster.node('n1').readStates).toEqual([]);
      expect(cluster.node('n1').readFailures).toEqual([{ context: 'r1', code: 'NOT_LEADER' }]);
    });
  });

  describe('back-pressure', () => {
    it('drops a read beyond pendingReadsMax, or one whose context is already pending, with READ_DROPPED', () => {
      const cluster = ledCluster({ pendingReadsMax: 1 });
      read(cluster, 'n1', 'r1');
      read(cluster, 'n1', 'r1');
      read(cluster, 'n1', 'r2');
      expect(cluster.node('n1').readFailures).toEqual([
        { context: 'r1', code: 'READ_DROPPED' },
        { context: 'r2', code: 'READ_DROPPED' },
      ]);
      cluster.deliver();
      expect(cluster.node('n1').readStates).toEqual([{ context: 'r1', index: 3 }]);
    });

    it('a forwarded read the leader drops for back-pressure fails with READ_DROPPED, not NOT_LEADER', () => {
      const cluster = ledCluster({ pendingReadsMax: 1 });
      read(cluster, 'n1', 'r1');
      read(cluster, 'n2', 'f1');
      cluster.deliver(is('readIndex'));
      cluster.deliver(is('readIndexResponse'));
      expect(cluster.status('n2').leader).toBe('n1');
      expect(cluster.node('n2').readFailures).toEqual([{ context: 'f1', code: 'READ_DROPPED' }]);
    });
  });
});
