import { type LogPosition, type NodeId, type PersistedState, type Ready, reaches, samePosition } from '../raft/index.ts';
import { assert } from '../shared/index.ts';

/**
 * What a node has promised other nodes, kept in a small file of its own beside LevelDB so that
 * damage to either is caught by the other: its id, its term and vote, and the end of its log (the
 * entries it acknowledged, and the log it votes with).
 *
 * The mark for a write is written beside the write itself and both are awaited before any answer
 * leaves, so it costs no extra serial fsync. Since either may land without the other when the
 * process dies, the mark holds two ends: `current`, the log after the write under way, and
 * `previous`, the log after the last write that completed. A log holding either is intact: a torn
 * last write only lost what nobody was told about.
 */
export interface AckedMark {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly previous: LogPosition;
  readonly current: LogPosition;
  /** The end of a log that damage took, until a completed write reaches it again (see `reaches`). */
  readonly recoverTo?: LogPosition;
}

export const START_OF_LOG: LogPosition = { index: 0, term: 0 };

/** The end of a stored log: its last entry, or its snapshot when no entry follows. */
export function lastPosition(state: PersistedState): LogPosition {
  const last = state.entries[state.entries.length - 1];
  if (last !== undefined) return { index: last.index, term: last.term };
  const meta = state.snapshot?.meta;
  return meta === undefined ? START_OF_LOG : { index: meta.index, term: meta.term };
}

/** The end of the log once `ready` is written: its entries replace everything after their first. */
export function positionAfter(position: LogPosition, ready: Ready): LogPosition {
  const last = ready.entries[ready.entries.length - 1];
  if (last !== undefined) return { index: last.index, term: last.term };
  const meta = ready.snapshot?.meta;
  return meta === undefined ? position : { index: meta.index, term: meta.term };
}

/**
 * The mark to write beside `ready`, or undefined when the ready changes nothing the mark records
 * (the common case for commit-only readies, which cost no mark write). Saves run one at a time, so
 * the write before this one has completed: its end becomes `previous`.
 */
export function markFor(mark: AckedMark, ready: Ready): AckedMark | undefined {
  const current = positionAfter(mark.current, ready);
  const term = ready.hardState?.term ?? mark.term;
  const vote = ready.hardState?.vote ?? mark.vote;
  // The mark starts from the hard state the core starts from (see `planStart`), and the core's term
  // only grows and its vote is given once a term: the promises the mark exists to keep.
  assert(term >= mark.term, `the term went back from ${mark.term} to ${term}`);
  assert(term > mark.term || mark.vote === '' || vote === mark.vote, `a second vote in term ${term}`);
  if (samePosition(current, mark.current) && term === mark.term && vote === mark.vote) return undefined;
  // A lost log is forgotten only once a write that reaches it has completed, not merely begun.
  const recoverTo = mark.recoverTo !== undefined && !reaches(mark.current, mark.recoverTo) ? mark.recoverTo : undefined;
  const next = { id: mark.id, term, vote, previous: mark.current, current };
  return recoverTo === undefined ? next : { ...next, recoverTo };
}

/**
 * The mark once the write it describes has completed and no other has begun: `previous` catches up
 * with `current`, so that losing that write too is caught at the next start. Undefined when the
 * mark is already settled.
 */
export function settledMark(mark: AckedMark): AckedMark | undefined {
  if (samePosition(mark.previous, mark.current)) return undefined;
  const settled = { id: mark.id, term: mark.term, vote: mark.vote, previous: mark.current, current: mark.current };
  return mark.recoverTo === undefined || reaches(mark.current, mark.recoverTo) ? settled : { ...settled, recoverTo: mark.recoverTo };
}

/** Whether a stored log holds the entry at `position` (compacted positions are behind a snapshot of a longer log). */
export function holdsPosition(state: PersistedState, position: LogPosition): boolean {
  const base = state.snapshot?.meta.index ?? 0;
  if (position.index < base) return true;
  if (position.index === base) return (state.snapshot?.meta.term ?? 0) === position.term;
  return state.entries[position.index - base - 1]?.term === position.term;
}
