import { describe, expect, it } from 'vitest';
import { CLOCK_DRIFT_ENV, CLOCK_OFFSET_ENV, NodeClock } from '../../../../src/server/clocks/node-clock.ts';

describe('NodeClock', () => {
  it('adds the offset to the wall clock only', () => {
    const clock = new NodeClock();
    const before = { wall: clock.wallMs(), mono: clock.monoMs() };
    clock.set({ offsetMs: 3_600_000, driftPpm: 0 });
    expect(clock.wallMs() - before.wall).toBeGreaterThanOrEqual(3_600_000);
    expect(clock.wallMs() - before.wall).toBeLessThan(3_600_000 + 60_000);
    expect(clock.monoMs() - before.mono).toBeLessThan(60_000);
  });

  it('reads its skew from the environment and refuses nonsense', () => {
    expect(NodeClock.fromEnvironment({ [CLOCK_OFFSET_ENV]: '-5000', [CLOCK_DRIFT_ENV]: '200' }).current).toEqual({ offsetMs: -5000, driftPpm: 200 });
    expect(NodeClock.fromEnvironment({}).current).toEqual({ offsetMs: 0, driftPpm: 0 });
    expect(() => NodeClock.fromEnvironment({ [CLOCK_OFFSET_ENV]: 'soon' })).toThrow(/must be a number/);
    expect(() => new NodeClock().set({ offsetMs: 0, driftPpm: 1e9 })).toThrow(/drift/);
  });
});
