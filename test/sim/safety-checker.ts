import type { Entry, Membership, NodeId, Raft } from '../../src/raft/index.ts';

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

/** One applied normal entry, as the state machine saw it. */
export interface AppliedRecord {
  readonly index: number;
  readonly term: number;
  readonly value: number;
}

/** A node's log as an election would see it. */
export interface LogView {
  readonly id: NodeId;
  /** False while the node recovers from a damaged disk (or would, on restart): it grants no vote. */
  readonly voting: boolean;
  readonly membership: Membership;
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  entryAt(index: number): Entry | undefined;
}

interface LeaderWatch {
  readonly term: number;
  lastIndex: number;
  lastEntry: Entry | undefined;
}

/**
 * Raft's safety properties (Raft §5.2–5.4, Figure 3), checked after every simulated step, plus the
 * client-level promises: a read sees every commit that preceded it, and an acknowledged proposal
 * is never lost.
 */
export class SafetyChecker {
  checks = 0;
  private leaderOfTerm = new Map<number, NodeId>();
  private leaderWatch = new Map<NodeId, LeaderWatch>();
  /**
   * Every entry any node has ever known as committed, by index (one entry per index, ever), with
   * the term of the node that first saw it committed: leaders of later terms must hold it.
   */
  private committed: ({ entry: Entry; term: number } | undefined)[] = [];
  private committedMax = 0;
  private commitSeen = new Map<NodeId, number>();
  private applied = new Map<number, AppliedRecord>();
  private readsInvoked = new Map<string, number>();

  fail(message: string): never {
    throw new InvariantViolation(message);
  }

  /** Election Safety, Leader Append-Only, Leader Completeness and commit agreement for one node. */
  checkNode(id: NodeId, raft: Raft): void {
    const status = raft.status();
    this.recordCommits(id, raft, status.commit, status.firstIndex, status.term);
    if (status.role !== 'leader') {
      this.leaderWatch.delete(id);
      return;
    }
    this.checks++;
    const known = this.leaderOfTerm.get(status.term);
    if (known !== undefined && known !== id) this.fail(`Election Safety: ${known} and ${id} both lead term ${status.term}`);
    this.leaderOfTerm.set(status.term, id);
    const watch = this.leaderWatch.get(id);
    if (watch === undefined || watch.term !== status.term) {
      this.checkLeaderCompleteness(id, raft, status.firstIndex, 1);
    } else {
      this.checkAppendOnly(id, raft, watch);
    }
    this.leaderWatch.set(id, { term: status.term, lastIndex: status.lastIndex, lastEntry: raft.entryAt(status.lastIndex) });
  }

  private checkAppendOnly(id: NodeId, raft: Raft, watch: LeaderWatch): void {
    this.checks++;
    const status = raft.status();
    if (status.lastIndex < watch.lastIndex) this.fail(`Leader Append-Only: ${id} shrank its log below ${watch.lastIndex}`);
    if (watch.lastEntry !== undefined && watch.lastIndex >= status.firstIndex && raft.entryAt(watch.lastIndex) !== watch.lastEntry) {
      this.fail(`Leader Append-Only: ${id} overwrote index ${watch.lastIndex}`);
    }
  }

  /** Every committed entry from `from` on is in the leader's log (Raft §5.4.1). */
  private checkLeaderCompleteness(id: NodeId, raft: Raft, firstIndex: number, from: number): void {
    this.checks++;
    const leaderTerm = raft.status().term;
    for (let index = Math.max(from, firstIndex); index <= this.committedMax; index++) {
      const committed = this.committed[index];
      if (committed === undefined || committed.term >= leaderTerm) continue;
      const held = raft.entryAt(index);
      if (held === undefined || !sameEntry(held, committed.entry)) {
        this.fail(
          `Leader Completeness: leader ${id} of term ${leaderTerm} lacks index ${index} (entry term ${committed.entry.term}), committed in term ${committed.term}`,
        );
      }
    }
  }

  private recordCommits(id: NodeId, raft: Raft, commit: number, firstIndex: number, term: number): void {
    const seen = this.commitSeen.get(id) ?? 0;
    if (commit <= seen) return;
    this.commitSeen.set(id, commit);
    const previousMax = this.committedMax;
    for (let index = Math.max(seen + 1, firstIndex); index <= commit; index++) {
      this.checks++;
      const entry = raft.entryAt(index);
      if (entry === undefined) continue;
      const known = this.committed[index];
      if (known === undefined) {
        this.committed[index] = { entry, term };
      } else if (!sameEntry(known.entry, entry)) {
        this.fail(`State Machine Safety: index ${index} committed as term ${known.entry.term} and as term ${entry.term} (on ${id})`);
      }
    }
    this.committedMax = Math.max(this.committedMax, commit);
    if (this.committedMax > previousMax) this.recheckLeaders(previousMax + 1);
  }

  private leaders = new Map<NodeId, Raft>();

  trackLeaders(leaders: Map<NodeId, Raft>): void {
    this.leaders = leaders;
  }

  private recheckLeaders(from: number): void {
    for (const [id, raft] of this.leaders) {
      const status = raft.status();
      if (status.role === 'leader') this.checkLeaderCompleteness(id, raft, status.firstIndex, from);
    }
  }

  /** Log Matching (Raft §5.3): same index and term means the same entries up to there. */
  checkLogMatching(aId: NodeId, a: Raft, bId: NodeId, b: Raft): void {
    this.checks++;
    const aStatus = a.status();
    const bStatus = b.status();
    const low = Math.max(aStatus.firstIndex, bStatus.firstIndex);
    let index = Math.min(aStatus.lastIndex, bStatus.lastIndex);
    while (index >= low && a.termAt(index) !== b.termAt(index)) index--;
    for (; index >= low; index--) {
      const left = a.entryAt(index)!;
      const right = b.entryAt(index)!;
      if (!sameEntry(left, right)) this.fail(`Log Matching: ${aId} and ${bId} differ at index ${index} below a matching entry`);
    }
  }

  /** State Machine Safety on what was actually applied. */
  onApplied(id: NodeId, record: AppliedRecord): void {
    this.checks++;
    const known = this.applied.get(record.index);
    if (known === undefined) {
      this.applied.set(record.index, record);
      return;
    }
    if (known.term !== record.term || known.value !== record.value) {
      this.fail(
        `State Machine Safety: ${id} applied term ${record.term} value ${record.value} at index ${record.index}, another node term ${known.term} value ${known.value}`,
      );
    }
  }

  onReadInvoked(context: string): void {
    this.readsInvoked.set(context, this.committedMax);
  }

  /** A read served at `index` must reflect every commit known anywhere when it was invoked. */
  onReadServed(id: NodeId, context: string, index: number): void {
    this.checks++;
    const floor = this.readsInvoked.get(context);
    if (floor === undefined) this.fail(`read ${context} served on ${id} but never invoked`);
    if (index < floor) this.fail(`Linearizable read: ${context} served on ${id} at index ${index}, but ${floor} was committed before it began`);
  }

  private electableTip: Entry | undefined;

  /**
   * Raft §5.4.3 as a state invariant: a voter whose log is at least as up to date as a quorum of its
   * voters' could win the next election, so it must hold every committed entry. This fires when a
   * commit becomes unsafe, without waiting for the schedule to elect the node that lacks it.
   */
  checkElectable(views: () => LogView[], logChanged: boolean): void {
    let index = this.committedMax;
    while (index > 0 && this.committed[index] === undefined) index--;
    const tip = this.committed[index]?.entry;
    if (tip === undefined || (!logChanged && tip === this.electableTip)) return;
    this.electableTip = tip;
    const all = views();
    for (const c of all) {
      const voters = c.membership.voters;
      if (!c.voting || !voters.includes(c.id) || tip.index <= c.snapshotIndex) continue;
      const beaten = all.filter(
        (v) => v.voting && voters.includes(v.id) && (c.lastTerm > v.lastTerm || (c.lastTerm === v.lastTerm && c.lastIndex >= v.lastIndex)),
      );
      if (beaten.length < Math.floor(voters.length / 2) + 1) continue;
      const held = c.entryAt(tip.index);
      if (held === undefined || !sameEntry(held, tip)) {
        this.fail(
          `Electable Completeness: ${c.id} (last ${c.lastIndex}/${c.lastTerm}) is as up to date as a quorum of [${voters}] but lacks committed index ${tip.index} (term ${tip.term})`,
        );
      }
    }
  }

  appliedRecords(): ReadonlyMap<number, AppliedRecord> {
    return this.applied;
  }
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a === b || (a.index === b.index && a.term === b.term && a.kind === b.kind && sameBytes(a.data, b.data));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
