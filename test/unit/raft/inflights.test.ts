import { describe, expect, it } from 'vitest';
import { Inflights } from '../../../src/raft/inflights.ts';

describe('inflights', () => {
  it('is full once the byte window is used, even with few appends out', () => {
    const inflights = new Inflights(100, 1000);
    inflights.add(5, 600);
    expect(inflights.full()).toBe(false);
    inflights.add(9, 500);
    expect(inflights.full()).toBe(true);
    expect(inflights.count).toBe(2);
  });

  it('gives the bytes back as appends are acknowledged', () => {
    const inflights = new Inflights(100, 1000);
    inflights.add(5, 600);
    inflights.add(9, 500);
    inflights.freeLE(5);
    expect(inflights.inflightBytes).toBe(500);
    expect(inflights.full()).toBe(false);
    inflights.freeFirstOne();
    expect(inflights.inflightBytes).toBe(0);
    expect(inflights.count).toBe(0);
  });

  it('is full at its count whatever the bytes', () => {
    const inflights = new Inflights(2, 1_000_000);
    inflights.add(1, 10);
    inflights.add(2, 10);
    expect(inflights.full()).toBe(true);
    expect(() => inflights.add(3, 10)).toThrow(/overflow/);
  });
});
