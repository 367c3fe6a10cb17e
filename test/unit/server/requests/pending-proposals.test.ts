import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingProposals } from '../../../../src/server/requests/pending-proposals.ts';
import { RequestError } from '../../../../src/shared/index.ts';

/** The outcome a promise has settled with so far, without awaiting it. */
function outcome<T>(promise: Promise<T>): () => { value?: T; error?: RequestError } | undefined {
  let settled: { value?: T; error?: RequestError } | undefined;
  promise.then(
    (value) => (settled = { value }),
    (error: RequestError) => (settled = { error }),
  );
  return () => settled;
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('proposals waiting to be applied', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('on losing leadership, gives each a short grace and then answers UNAVAILABLE, outcome unknown', async () => {
    const pending = new PendingProposals<string>(10_000);
    const lost = outcome(pending.wait(1, 2));
    const applied = outcome(pending.wait(2, 2));
    pending.expireWithin(1000);
    pending.onApplied(2, 2, 'applied under the next leader');
    await vi.advanceTimersByTimeAsync(999);
    expect(lost()).toBeUndefined();
    expect(applied()).toEqual({ value: 'applied under the next leader' });
    await vi.advanceTimersByTimeAsync(1);
    expect(lost()?.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(lost()?.error?.message).toMatch(/outcome is unknown/);
    expect(pending.size).toBe(0);
  });

  it('keeps a deadline that comes sooner than the grace, with its own TIMEOUT', async () => {
    const pending = new PendingProposals<string>(500);
    const waiting = outcome(pending.wait(1, 2));
    pending.expireWithin(1000);
    await vi.advanceTimersByTimeAsync(500);
    expect(waiting()?.error?.code).toBe('TIMEOUT');
  });

  it('ends a proposal whose index a new one takes (it was cut from the log), and only that one', async () => {
    const pending = new PendingProposals<string>(1000);
    const cut = outcome(pending.wait(7, 2));
    await vi.advanceTimersByTimeAsync(600);
    const replacing = outcome(pending.wait(7, 3));
    await settle();
    expect(cut()?.error?.message).toMatch(/not applied/);
    // The first one's timer, due at 1000 ms, must not end the second one.
    await vi.advanceTimersByTimeAsync(500);
    expect(replacing()).toBeUndefined();
    pending.onApplied(7, 3, 'committed');
    await settle();
    expect(replacing()).toEqual({ value: 'committed' });
  });
});
