import { describe, expect, it } from 'vitest';
import { PeerActivity } from '../../../../src/server/membership/peer-activity.ts';

describe('PeerActivity', () => {
  it('says a node is cut off only once it heard from peers before and from none lately', () => {
    const activity = new PeerActivity();
    expect(activity.hearsNoPeer(10_000, 1500)).toBe(false);
    activity.heard('b', 1000);
    activity.heard('c', 2000);
    expect(activity.hearsNoPeer(3400, 1500)).toBe(false);
    expect(activity.hearsNoPeer(3501, 1500)).toBe(true);
    activity.heard('b', 3600);
    expect(activity.hearsNoPeer(3700, 1500)).toBe(false);
    expect(activity.heardAgoMs('b', 3700)).toBe(100);
    expect(activity.heardAgoMs('d', 3700)).toBeUndefined();
  });

  it('forgets the peers it has not heard from for the longest past its bound, never the recent ones', () => {
    const activity = new PeerActivity();
    for (let peer = 0; peer <= 1024; peer++) activity.heard(`p${peer}`, peer);
    activity.heard('recent', 5000);
    expect(activity.hearsNoPeer(5000 + 1500, 1500)).toBe(false);
    expect(activity.hearsNoPeer(5000 + 1501, 1500)).toBe(true);
  });
});
