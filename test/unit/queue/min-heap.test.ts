import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../src/queue/min-heap.ts';

const ascending = (a: number, b: number) => a < b;

function drain<T>(heap: MinHeap<T>): T[] {
  const out: T[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item);
  return out;
}

describe('MinHeap', () => {
  it('answers undefined from peek and pop when empty, and stays empty', () => {
    const heap = new MinHeap(ascending);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('peeks at the smallest item without removing it', () => {
    const heap = new MinHeap(ascending);
    for (const value of [5, 3, 8, 1, 9]) heap.push(value);
    expect(heap.peek()).toBe(1);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(5);
  });

  it('pops every item in order, duplicates included', () => {
    const heap = new MinHeap(ascending);
    for (const value of [4, 1, 4, 2, 2, 7, 1, 0]) heap.push(value);
    expect(drain(heap)).toEqual([0, 1, 1, 2, 2, 4, 4, 7]);
    expect(heap.size).toBe(0);
  });

  it('orders by the given predicate, so a tie-breaker decides between equal keys', () => {
    // The queue relies on this: equal priorities must come out by seq, not by heap shape.
    const heap = new MinHeap<{ key: number; seq: number }>((a, b) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq));
    const items = [
      { key: 1, seq: 3 },
      { key: 0, seq: 2 },
      { key: 1, seq: 1 },
      { key: 0, seq: 4 },
      { key: 1, seq: 2 },
    ];
    for (const item of items) heap.push(item);
    expect(drain(heap).map((item) => `${item.key}/${item.seq}`)).toEqual(['0/2', '0/4', '1/1', '1/2', '1/3']);
  });

  it('lists every held item through values() and forgets them all on clear()', () => {
    const heap = new MinHeap(ascending);
    for (const value of [3, 1, 2]) heap.push(value);
    expect([...heap.values()].sort()).toEqual([1, 2, 3]);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    heap.push(7);
    expect(heap.pop()).toBe(7);
  });

  it('matches a sorted array under any interleaving of pushes and pops', () => {
    // null stands for a pop; the reference keeps its array sorted and takes from the front.
    const operations = fc.array(fc.option(fc.integer({ min: -50, max: 50 }), { freq: 3 }), { maxLength: 200 });
    fc.assert(
      fc.property(operations, (script) => {
        const heap = new MinHeap(ascending);
        const reference: number[] = [];
        for (const operation of script) {
          if (operation === null) {
            expect(heap.pop()).toBe(reference.shift());
          } else {
            heap.push(operation);
            reference.push(operation);
            reference.sort((a, b) => a - b);
          }
          expect(heap.size).toBe(reference.length);
          expect(heap.peek()).toBe(reference[0]);
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('MinHeap.retain', () => {
  it('drops the refused items and still pops the rest in order', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    for (const value of [9, 4, 7, 1, 8, 2, 6, 3, 5]) heap.push(value);
    heap.retain((value) => value % 2 === 0);
    const popped: number[] = [];
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
    expect(popped).toEqual([2, 4, 6, 8]);
  });
});
