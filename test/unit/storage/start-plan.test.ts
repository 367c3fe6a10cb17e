import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../../src/raft/index.ts';
import { type AckedMark, markFor } from '../../../src/storage/acked-mark.ts';
import { planStart } from '../../../src/storage/start-plan.ts';
import { entry, ready } from '../../support/ready-builder.ts';

function stored(terms: number[], term = 2, vote = 'a'): PersistedState {
  return { hardState: { term, vote, commit: 0 }, entries: terms.map((t, i) => entry(i + 1, t)) };
}

const mark = (fields: Partial<AckedMark>): AckedMark => ({
  id: 'n1',
  term: 2,
  vote: 'a',
  previous: { index: 0, term: 0 },
  current: { index: 0, term: 0 },
  ...fields,
});

describe('acknowledged mark', () => {
  it('is not rewritten by a ready that changes neither the log end, the term nor the vote', () => {
    expect(markFor(mark({}), ready({ hardState: { term: 2, vote: 'a', commit: 5 }, mustSync: false }))).toBeUndefined();
  });

  it('moves the completed end to previous and the written one to current', () => {
    const first = markFor(mark({}), ready({ entries: [entry(1, 2), entry(2, 2)] }))!;
    expect(first).toMatchObject({ previous: { index: 0, term: 0 }, current: { index: 2, term: 2 } });
    const second = markFor(first, ready({ entries: [entry(3, 2)] }))!;
    expect(second).toMatchObject({ previous: { index: 2, term: 2 }, current: { index: 3, term: 2 } });
  });

  it('follows a conflicting tail down, and a leader snapshot, and records a new term and vote', () => {
    const truncated = markFor(mark({ current: { index: 9, term: 2 } }), ready({ entries: [entry(5, 3)], hardState: { term: 3, vote: 'b', commit: 0 } }))!;
    expect(truncated).toMatchObject({ term: 3, vote: 'b', current: { index: 5, term: 3 } });
    const installed = markFor(
      truncated,
      ready({ snapshot: { meta: { index: 40, term: 3, membership: { voters: [], learners: [] } }, data: new Uint8Array(0) } }),
    )!;
    expect(installed.current).toEqual({ index: 40, term: 3 });
  });

  it('forgets a lost log end only once a completed write has reached it', () => {
    const lost = { index: 3, term: 2 };
    const written = markFor(mark({ recoverTo: lost }), ready({ entries: [entry(1, 2), entry(2, 2), entry(3, 2)] }))!;
    expect(written.recoverTo).toEqual(lost);
    expect(markFor(written, ready({ entries: [entry(4, 2)] }))!.recoverTo).toBeUndefined();
  });
});

describe('start plan (protocol-aware recovery at start)', () => {
  it('trusts a log that holds the end of the last write, or of the one before (the last may be torn)', () => {
    const landed = planStart('n1', stored([1, 2, 2]), [], mark({ previous: { index: 2, term: 2 }, current: { index: 3, term: 2 } }));
    expect(landed).toMatchObject({ discard: false, storeHardState: false });
    expect(landed.persisted.recovery).toBeUndefined();
    const torn = planStart('n1', stored([1, 2]), [], mark({ previous: { index: 2, term: 2 }, current: { index: 3, term: 2 } }));
    expect(torn.discard).toBe(false);
    expect(torn.mark).toMatchObject({ previous: { index: 2, term: 2 }, current: { index: 2, term: 2 } });
  });

  it('discards a log shorter than what it acknowledged and starts recovering toward the lost end', () => {
    const plan = planStart(
      'n1',
      stored([1, 2]),
      ['log entry 3 fails its hash chain'],
      mark({ previous: { index: 4, term: 2 }, current: { index: 5, term: 2 } }),
    );
    expect(plan.discard).toBe(true);
    expect(plan.persisted).toEqual({ hardState: { term: 2, vote: 'a', commit: 0 }, entries: [], recovery: { index: 5, term: 2 } });
    expect(plan.mark.recoverTo).toEqual({ index: 5, term: 2 });
    expect(plan.findings.join('\n')).toMatch(/hash chain[\s\S]*discarded/);
  });

  it('discards a log whose entry at the mark has another term (an older record came back)', () => {
    const plan = planStart('n1', stored([1, 2, 2]), [], mark({ previous: { index: 3, term: 3 }, current: { index: 3, term: 3 } }));
    expect(plan.discard).toBe(true);
  });

  it('takes the term and vote from the mark when the store lost them, so no vote is given twice', () => {
    const plan = planStart('n1', stored([1, 2], 2, ''), [], mark({ term: 4, vote: 'c', current: { index: 2, term: 2 } }));
    expect(plan).toMatchObject({ discard: false, storeHardState: true });
    expect(plan.persisted.hardState).toEqual({ term: 4, vote: 'c', commit: 0 });
  });

  it('keeps recovering across restarts until the rebuilt log reaches the lost end', () => {
    const lost = { index: 10, term: 2 };
    const partial = planStart('n1', stored([1, 2, 2]), [], mark({ current: { index: 3, term: 2 }, recoverTo: lost }));
    expect(partial).toMatchObject({ discard: false, persisted: { recovery: lost } });
    const later = planStart('n1', stored([1, 2, 3]), [], mark({ current: { index: 3, term: 3 }, recoverTo: lost }));
    expect(later.persisted.recovery).toBeUndefined();
    expect(later.mark.recoverTo).toBeUndefined();
  });

  it('without a mark, trusts an undamaged store and recovers from a damaged one until a later term', () => {
    expect(planStart('n1', stored([1, 2]), [], undefined).discard).toBe(false);
    const plan = planStart('n1', stored([1, 2]), ['log entry 3 is missing'], undefined);
    expect(plan.discard).toBe(true);
    expect(plan.persisted.recovery).toEqual({ index: Number.MAX_SAFE_INTEGER, term: 2 });
  });
});
