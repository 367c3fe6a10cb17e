import { describe, expect, it } from 'vitest';
import { BroadcastQueue, retransmitLimit } from '../../../src/gossip/broadcast-queue.ts';
import type { MemberUpdate } from '../../../src/gossip/index.ts';

function alive(id: string, incarnation = 0): MemberUpdate {
  return { id, address: `mem://${id}`, incarnation, state: 'alive', by: id };
}

function ids(updates: readonly MemberUpdate[]): string[] {
  return updates.map((update) => update.id);
}

describe('retransmitLimit', () => {
  it.each([
    [4, 1, 4],
    [4, 9, 4],
    [4, 10, 8],
    [4, 99, 8],
    [4, 100, 12],
    [3, 512, 9],
  ])('with multiplier %i and %i members is %i', (multiplier, members, limit) => {
    expect(retransmitLimit(multiplier, members)).toBe(limit);
  });
});

describe('BroadcastQueue', () => {
  it('sends the fewest-transmitted claims first, the newest among equals', () => {
    const queue = new BroadcastQueue(8);
    queue.enqueue(alive('a'));
    queue.enqueue(alive('b'));
    expect(ids(queue.take(1, 4))).toEqual(['b']);
    queue.enqueue(alive('c'));
    expect(ids(queue.take(2, 4))).toEqual(['c', 'a']);
    expect(ids(queue.take(3, 4))).toEqual(['c', 'b', 'a']);
  });

  it('drops a claim once it has been sent retransmit-limit times', () => {
    const queue = new BroadcastQueue(8);
    queue.enqueue(alive('a'));
    const sent = [1, 2, 3, 4].flatMap(() => queue.take(8, 3));
    expect(ids(sent)).toEqual(['a', 'a', 'a']);
    expect(queue.has('a')).toBe(false);
  });

  it('replaces a superseded claim, which then is never sent again', () => {
    const queue = new BroadcastQueue(8);
    queue.enqueue(alive('a', 0));
    queue.take(8, 4);
    queue.enqueue(alive('a', 1));
    expect(queue.size).toBe(1);
    expect(queue.take(8, 4)).toEqual([alive('a', 1)]);
  });

  it('takes at most the requested number of claims', () => {
    const queue = new BroadcastQueue(8);
    for (const id of ['a', 'b', 'c', 'd']) queue.enqueue(alive(id));
    expect(queue.take(2, 4)).toHaveLength(2);
    expect(queue.take(0, 4)).toEqual([]);
  });
});
