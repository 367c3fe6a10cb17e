import { describe, expect, it } from 'vitest';
import { PeerClocks } from '../../../../src/server/clocks/peer-clocks.ts';

const HOUR = 3_600_000;

describe('PeerClocks', () => {
  it('outvotes a leader whose own clock is an hour ahead or behind', () => {
    for (const skew of [HOUR, -HOUR]) {
      const clocks = new PeerClocks();
      // True time 1,000,000; our monotonic clock reads 500; the followers are right.
      clocks.heard('b', 1_000_000, 500);
      clocks.heard('c', 1_000_000, 500);
      clocks.refresh('a', ['a', 'b', 'c']);
      expect(clocks.clusterWallMs(1_000_000 + skew, 500)).toBe(1_000_000);
      // Time passes on the monotonic clock: the cluster's time moves with it.
      expect(clocks.clusterWallMs(1_000_250 + skew, 750)).toBe(1_000_250);
    }
  });

  it('counts readings heard since the last refresh (a new leader stamps at once)', () => {
    const clocks = new PeerClocks();
    clocks.refresh('a', ['a', 'b', 'c']);
    clocks.heard('b', 1_000_000, 0);
    clocks.heard('c', 1_000_000, 0);
    expect(clocks.clusterWallMs(1_000_000 + HOUR, 0)).toBe(1_000_000);
  });

  it('ignores one wrong follower, stale readings and non-voters', () => {
    const clocks = new PeerClocks();
    clocks.heard('b', 1_000_000 + HOUR, 500);
    clocks.heard('c', 1_000_000, 500);
    clocks.heard('learner', 1_000_000 + HOUR, 500);
    clocks.refresh('a', ['a', 'b', 'c']);
    expect(clocks.clusterWallMs(1_000_000, 500)).toBe(1_000_000);
    // Ten seconds later only our own reading is fresh.
    clocks.refresh('a', ['a', 'b', 'c']);
    expect(clocks.clusterWallMs(1_010_000 + 7, 10_500)).toBe(1_010_007);
  });

  it('takes the lower middle of an even count, so a disagreement ends leases late, not early', () => {
    const clocks = new PeerClocks();
    clocks.heard('b', 1_000_000 + HOUR, 0);
    clocks.refresh('a', ['a', 'b']);
    expect(clocks.clusterWallMs(1_000_000, 0)).toBe(1_000_000);
    const behind = new PeerClocks();
    behind.heard('b', 1_000_000 - HOUR, 0);
    behind.refresh('a', ['a', 'b']);
    expect(behind.clusterWallMs(1_000_000, 0)).toBe(1_000_000 - HOUR);
  });

  it('drops readings that are not numbers and forgets a peer whose link went down', () => {
    const clocks = new PeerClocks();
    clocks.heard('b', Number.NaN, 0);
    clocks.heard('c', 5_000, 0);
    clocks.heard('d', 5_000, 0);
    clocks.forget('d');
    clocks.refresh('a', ['a', 'b', 'c', 'd']);
    // Voters a (1,000) and c (5,000) count: the lower middle is ours.
    expect(clocks.clusterWallMs(1_000, 0)).toBe(1_000);
  });
});

describe('PeerClocks filtering', () => {
  it('trusts the least delayed reading of the last second or two, so a stalled event loop does not slow the cluster clock', () => {
    const clocks = new PeerClocks();
    // b and c are right (true time = mono + 1,000,000); frames reach us late after a 300 ms stall.
    for (const peer of ['b', 'c']) {
      clocks.heard(peer, 1_000_100, 100);
      clocks.heard(peer, 1_000_150, 450);
    }
    clocks.refresh('a', ['a', 'b', 'c']);
    expect(clocks.clusterWallMs(1_000_450, 450)).toBe(1_000_450);
    // Two windows later the stalled readings are forgotten; a step back of a peer's clock counts then.
    for (const peer of ['b', 'c']) {
      clocks.heard(peer, 1_001_200, 1_200);
      clocks.heard(peer, 1_002_300 - 500, 2_300);
    }
    clocks.refresh('a', ['a', 'b', 'c']);
    expect(clocks.clusterWallMs(1_002_300, 2_300)).toBe(1_002_300);
    for (const peer of ['b', 'c']) clocks.heard(peer, 1_004_500 - 500, 4_500);
    clocks.refresh('a', ['a', 'b', 'c']);
    expect(clocks.clusterWallMs(1_004_500, 4_500)).toBe(1_004_000);
  });
});
