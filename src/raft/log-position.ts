import type { LogPosition } from './types.ts';

/**
 * Whether a log ending at `last` has caught up with `lost`, the end of a log this node had before
 * its disk lost part of it: it reaches that index, or holds an entry of a later term. Either way it
 * holds every entry the lost log could have helped commit, as long as it was copied from a leader:
 * a leader holds every committed entry, and the terms in its log only grow with the index.
 */
export function reaches(last: LogPosition, lost: LogPosition): boolean {
  return last.index >= lost.index || last.term > lost.term;
}

/** The more up to date of two log ends, in the sense of Raft §5.4.1 (term first, then index). */
export function moreUpToDate(a: LogPosition, b: LogPosition): LogPosition {
  return a.term > b.term || (a.term === b.term && a.index >= b.index) ? a : b;
}

export function samePosition(a: LogPosition, b: LogPosition): boolean {
  return a.index === b.index && a.term === b.term;
}
