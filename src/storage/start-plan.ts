import { type HardState, type LogPosition, moreUpToDate, type NodeId, type PersistedState, reaches } from '../raft/index.ts';
import { assert } from '../shared/index.ts';
import { type AckedMark, holdsPosition, lastPosition, START_OF_LOG } from './acked-mark.ts';

/** How a node starts from what its disk holds, checked against what it promised (its mark). */
export interface StartPlan {
  /** The state the Raft core starts from. */
  readonly persisted: PersistedState;
  /** The stored log, snapshots and hard state are thrown away, and `persisted.hardState` stored instead. */
  readonly discard: boolean;
  /** `persisted.hardState` must be stored: it was taken from the mark, the store having lost it. */
  readonly storeHardState: boolean;
  /** Written before the node runs: from now on the mark describes the checked state. */
  readonly mark: AckedMark;
  readonly findings: readonly string[];
}

/**
 * Protocol-aware recovery at start (RELIABILITY R11). The stored log must hold the end the mark
 * recorded (either end: the last write may have been torn). If it does not, it lost entries this
 * node acknowledged or voted with: it is thrown away whole, since what remains cannot be trusted
 * either (LevelDB may have dropped a newer record and kept an older one), and the node starts
 * recovering: empty, never voting, repaired from the leader. A term or vote the store lost is taken
 * from the mark, so that no vote is ever given twice in a term.
 *
 * `damage` lists what storage found wrong while loading (hash chain, missing entries): it always
 * dropped what followed. Without a mark (a directory from before marks), any damage means recovery.
 */
export function planStart(id: NodeId, stored: PersistedState, damage: readonly string[], mark: AckedMark | undefined): StartPlan {
  const findings = [...damage];
  const hardState = promisedHardState(stored.hardState, mark);
  const storeHardState = hardState !== stored.hardState;
  if (storeHardState)
    findings.push(`the stored term and vote (${stored.hardState.term}, '${stored.hardState.vote}') are older than the mark's: restored from it`);
  const intact = mark === undefined ? damage.length === 0 : holdsPosition(stored, mark.previous) || holdsPosition(stored, mark.current);
  if (!intact) {
    const lost = lostPosition(stored, mark);
    findings.push(
      `the stored log (ending at ${describe(lastPosition(stored))}) lacks what this node acknowledged (up to ${describe(lost)}): discarded, to be repaired from the leader`,
    );
    return startsAsMarked({
      persisted: { hardState: { term: hardState.term, vote: hardState.vote, commit: 0 }, entries: [], recovery: lost },
      discard: true,
      storeHardState: true,
      mark: { id, term: hardState.term, vote: hardState.vote, previous: START_OF_LOG, current: START_OF_LOG, recoverTo: lost },
      findings,
    });
  }
  const last = lastPosition(stored);
  const recoverTo = mark?.recoverTo !== undefined && !reaches(last, mark.recoverTo) ? mark.recoverTo : undefined;
  const checked = { id, term: hardState.term, vote: hardState.vote, previous: last, current: last };
  return startsAsMarked({
    persisted: { ...stored, hardState, ...(recoverTo === undefined ? {} : { recovery: recoverTo }) },
    discard: false,
    storeHardState,
    mark: recoverTo === undefined ? checked : { ...checked, recoverTo },
    findings,
  });
}

/**
 * Paired with `markFor`, which asserts that the term never goes back and that no second vote is
 * given in a term: the mark written at start must hold the term, vote and recovery target the core
 * starts from, or the first write after it would compare against promises the core never made.
 */
function startsAsMarked(plan: StartPlan): StartPlan {
  const { hardState, recovery } = plan.persisted;
  assert(plan.mark.term === hardState.term && plan.mark.vote === hardState.vote, 'the mark at start must hold the term and vote the core starts from');
  assert(plan.mark.recoverTo === recovery, 'the mark at start must hold the recovery the core starts with');
  return plan;
}

/**
 * The stored hard state, unless the mark shows a later term, or another vote in the same term,
 * than the store kept. Both are written together, so in one term they differ only if the store
 * was damaged or the store's write was torn (its vote then empty): the checksummed mark wins.
 */
function promisedHardState(stored: HardState, mark: AckedMark | undefined): HardState {
  if (mark === undefined || mark.term < stored.term) return stored;
  if (mark.term > stored.term) return { term: mark.term, vote: mark.vote, commit: stored.commit };
  return mark.vote !== '' && stored.vote !== mark.vote ? { ...stored, vote: mark.vote } : stored;
}

/**
 * How far the damaged log may have reached. Without a mark nobody knows: only an entry of a later
 * term than any this node held proves it caught up.
 */
function lostPosition(stored: PersistedState, mark: AckedMark | undefined): LogPosition {
  if (mark === undefined) return { index: Number.MAX_SAFE_INTEGER, term: Math.max(stored.hardState.term, lastPosition(stored).term) };
  const ends = moreUpToDate(mark.previous, mark.current);
  return mark.recoverTo === undefined ? ends : moreUpToDate(ends, mark.recoverTo);
}

function describe(position: LogPosition): string {
  return `index ${position.index === Number.MAX_SAFE_INTEGER ? 'unknown' : position.index}, term ${position.term}`;
}
