import { assert, type Prng, unreachable } from '../shared/index.ts';
import { LeaderReads, type ReadOutcome } from './leader-reads.ts';
import { LeaderReplication, type Outgoing } from './leader-replication.ts';
import { applyMembershipChange, isVoter, type MembershipChange } from './membership.ts';
import { committedIndex, hasQuorum, voteOutcome } from './quorum.ts';
import { type RaftConfig, validateRaftConfig } from './raft-config.ts';
import { RaftError } from './raft-errors.ts';
import { entryBytes, RaftLog } from './raft-log.ts';
import type { ReadIndexRequest } from './read-only.ts';
import {
  type AppendMessage,
  type AppendResponseMessage,
  type Entry,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatResponseMessage,
  type LogPosition,
  type Membership,
  type Message,
  NONE,
  type NodeId,
  type PersistedState,
  type ReadFailure,
  type ReadIndexMessage,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SnapshotMessage,
  type SnapshotMeta,
  type SoftState,
  type VoteMessage,
  type VoteResponseMessage,
} from './types.ts';

export type ProposeResult = { readonly ok: true; readonly index: number; readonly term: number } | { readonly ok: false; readonly error: RaftError };

/** The most committed entries one ready hands to the application. */
const COMMITTED_ENTRIES_PER_READY_MAX = 4096;

type CampaignKind = 'preVote' | 'vote' | 'transfer';

/** What one `ready()` handed out, so that `advance()` can record it as done. */
interface HandedOut {
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly lastEntry: Entry | undefined;
  readonly lastCommitted: number | undefined;
  readonly snapshot: Snapshot | undefined;
}

/**
 * The Raft consensus core, in the etcd-raft manner: pure and synchronous. Inputs are `tick()`,
 * `step(message)` and the proposal calls; the output is a `Ready` batch that the caller persists,
 * sends and applies before calling `advance()`. No clock, socket, disk or global randomness here.
 */
export class Raft {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly prng: Prng;
  private readonly log: RaftLog;
  private term: number;
  private vote: NodeId;
  private role: Role = 'follower';
  private leader: NodeId = NONE;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Ticks since start: a monotonic counter for timeouts that outlive role changes. */
  private ticks = 0;
  private votes = new Map<NodeId, boolean>();
  private readonly replication: LeaderReplication;
  private leadTransferee: NodeId = NONE;
  private uncommittedBytes = 0;
  /** Proposals since the last ready: sent as one append per follower when the ready is built. */
  private broadcastPending = false;
  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private readonly reads: LeaderReads;
  /** The latest local snapshot, sent to followers behind the first log index. */
  private snapshot: Snapshot | undefined;
  private persistedHardState: HardState;
  private reportedSoftState: SoftState;
  private handedOut: HandedOut | undefined;
  /**
   * While set, this node's disk lost entries it may have acknowledged or voted with: it must not
   * vote, campaign, or count toward a quorum until its durable log reaches this position again.
   */
  private recoveringTo: LogPosition | undefined;
  /** Leader messages received while leader in the same term: see `stepLeader`. */
  private strayLeaderMessages = 0;

  constructor(config: RaftConfig, persisted: PersistedState, prng: Prng) {
    validateRaftConfig(config);
    this.id = config.id;
    this.config = config;
    this.prng = prng;
    this.log = new RaftLog(persisted);
    this.snapshot = persisted.snapshot;
    this.term = persisted.hardState.term;
    this.vote = persisted.hardState.vote;
    this.persistedHardState = this.hardState();
    const recovery = persisted.recovery;
    this.recoveringTo = recovery !== undefined && !this.log.stableReaches(recovery) ? recovery : undefined;
    this.replication = new LeaderReplication({
      id: this.id,
      config,
      log: this.log,
      term: () => this.term,
      ticks: () => this.ticks,
      snapshot: () => this.snapshot,
      send: (message) => this.send(message),
    });
    this.reads = new LeaderReads({
      id: this.id,
      pendingReadsMax: config.pendingReadsMax,
      committedInCurrentTerm: () => this.committedInCurrentTerm(),
      commitIndex: () => this.log.committed,
      voters: () => this.log.membership().voters,
      broadcastHeartbeat: (readContext) => this.replication.broadcastHeartbeat(readContext),
      answer: (request, outcome) => this.answerRead(request, outcome),
    });
    this.becomeFollower(this.term, NONE);
    this.reportedSoftState = this.softState();
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.assertNoReadyOutstanding();
    this.ticks++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * The transport saw its connection to `peer` close (a crashed process closes its sockets at once).
   * If that is this follower's leader, it stops honouring the leader's lease and campaigns within one
   * or a few ticks instead of a whole election timeout. Safe whatever the cause: a pre-vote succeeds
   * only where a majority has lost the leader too, and no term moves until it does.
   */
  leaderUnreachable(peer: NodeId): void {
    this.assertNoReadyOutstanding();
    if (this.role !== 'follower' || this.leader !== peer || peer === NONE) return;
    this.leader = NONE;
    // Followers that lose the leader together must not all campaign in the same tick and split the
    // vote: each waits one tick more than the voter before it in id order. An election takes a round
    // trip or two, far less than a tick, so the first is usually leader before the next one wakes.
    const rank = this.log
      .membership()
      .voters.filter((id) => id !== peer)
      .sort()
      .indexOf(this.id);
    const ticksLeft = 1 + Math.max(0, rank);
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - ticksLeft);
  }

  step(message: Message): void {
    this.assertNoReadyOutstanding();
    if (message.to !== this.id) return;
    if (message.term > this.term) {
      if (!this.acceptHigherTerm(message)) return;
    } else if (message.term < this.term) {
      this.onStaleTerm(message);
      return;
    }
    this.dispatch(message);
  }

  propose(data: Uint8Array): ProposeResult {
    this.assertNoReadyOutstanding();
    const refusal = this.proposalRefusal();
    if (refusal) return { ok: false, error: refusal };
    if (data.length > this.config.proposalBytesMax) {
      return refuse('PROPOSAL_TOO_LARGE', `proposal of ${data.length} bytes exceeds ${this.config.proposalBytesMax}`);
    }
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, kind: 'normal', data };
    const bytes = entryBytes(entry);
    // An empty pipeline always takes one proposal, so a single large one cannot be starved.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.config.uncommittedBytesMax) {
      return refuse('OVERLOADED', 'too many uncommitted bytes; retry after the log catches up');
    }
    this.appendAsLeader(entry);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Proposes a single-server configuration change. Refused until this leader has committed an entry
   * of its own term, and while another change is uncommitted (raft-dev single-server change bug).
   */
  proposeMembershipChange(change: MembershipChange): ProposeResult {
    this.assertNoReadyOutstanding();
    const refusal = this.proposalRefusal();
    if (refusal) return { ok: false, error: refusal };
    if (!this.committedInCurrentTerm()) {
      return refuse('LEADER_NOT_READY', 'the leader has not yet committed an entry of its term');
    }
    if (this.log.membershipIndex() > this.log.committed) {
      return refuse('CHANGE_IN_PROGRESS', 'another membership change is not yet committed');
    }
    const next = applyMembershipChange(this.log.membership(), change);
    if ('invalid' in next) return refuse('INVALID_MEMBERSHIP_CHANGE', next.invalid);
    const index = this.log.lastIndex() + 1;
    this.appendAsLeader({ index, term: this.term, kind: 'config', data: new Uint8Array(0), membership: next });
    return { ok: true, index, term: this.term };
  }

  /** Starts a linearizable read; its outcome arrives as a `ReadState` or a `ReadFailure` under `context`. */
  readIndex(context: string): void {
    this.assertNoReadyOutstanding();
    assert(context !== '', 'read context must not be empty');
    if (this.role === 'leader') {
      this.reads.request({ context, from: this.id });
    } else if (this.leader !== NONE) {
      this.send({ type: 'readIndex', to: this.leader, term: this.term, readContext: context });
    } else {
      this.readFailures.push({ context, code: 'NOT_LEADER' });
    }
  }

  transferLeadership(to: NodeId): RaftError | undefined {
    this.assertNoReadyOutstanding();
    if (this.role !== 'leader') return new RaftError('NOT_LEADER', 'only the leader transfers leadership', this.leader);
    if (to === this.id) return undefined;
    const target = this.replication.progress.get(to);
    if (target === undefined || !isVoter(this.log.membership(), to)) {
      return new RaftError('INVALID_MEMBERSHIP_CHANGE', `${to} is not a voter`);
    }
    this.leadTransferee = to;
    // The transfer must finish within one election timeout or it is abandoned.
    this.electionElapsed = 0;
    if (target.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to, term: this.term });
    else this.replication.sendAppend(to, true);
    return undefined;
  }

  /**
   * Drops the log up to a snapshot the caller has already persisted (its index at most the applied
   * index). The snapshot is kept to send to followers that fall behind the new first index.
   */
  compact(snapshot: Snapshot): void {
    this.assertNoReadyOutstanding();
    this.log.compact(snapshot.meta);
    this.snapshot = snapshot;
  }

  snapshotMetaAt(index: number): SnapshotMeta {
    return this.log.snapshotMetaAt(index);
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    if (this.handedOut !== undefined) return false;
    return (
      this.broadcastPending ||
      this.messages.length > 0 ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      this.log.pendingSnapshot !== undefined ||
      this.log.stableIndex < this.log.lastIndex() ||
      this.log.applied < this.log.committed ||
      !sameHardState(this.hardState(), this.persistedHardState) ||
      !sameSoftState(this.softState(), this.reportedSoftState)
    );
  }

  ready(): Ready {
    this.assertNoReadyOutstanding();
    if (this.broadcastPending && this.role === 'leader') this.replication.broadcastAppend();
    this.broadcastPending = false;
    const hardState = this.hardState();
    const softState = this.softState();
    const entries = this.log.unstableEntries();
    const committedEntries = this.log.nextCommittedEntries(COMMITTED_ENTRIES_PER_READY_MAX);
    const snapshot = this.log.pendingSnapshot;
    const hardStateChanged = !sameHardState(hardState, this.persistedHardState);
    const ready: Ready = {
      softState: sameSoftState(softState, this.reportedSoftState) ? undefined : softState,
      hardState: hardStateChanged ? hardState : undefined,
      snapshot,
      entries,
      committedEntries,
      messages: this.messages,
      readStates: this.readStates,
      readFailures: this.readFailures,
      mustSync:
        entries.length > 0 || snapshot !== undefined || hardState.term !== this.persistedHardState.term || hardState.vote !== this.persistedHardState.vote,
    };
    this.messages = [];
    this.readStates = [];
    this.readFailures = [];
    this.handedOut = {
      hardState,
      softState,
      lastEntry: entries[entries.length - 1],
      lastCommitted: committedEntries[committedEntries.length - 1]?.index,
      snapshot,
    };
    return ready;
  }

  /** The caller has persisted, sent and applied everything the last `ready()` gave it. */
  advance(): void {
    const done = this.handedOut;
    assert(done !== undefined, 'advance without an outstanding ready');
    this.handedOut = undefined;
    this.persistedHardState = done.hardState;
    this.reportedSoftState = done.softState;
    if (done.snapshot !== undefined && this.log.pendingSnapshot === done.snapshot) {
      this.log.pendingSnapshot = undefined;
      this.snapshot = done.snapshot;
    }
    if (done.lastEntry !== undefined) this.log.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (done.lastCommitted !== undefined) this.log.appliedTo(done.lastCommitted);
    if (this.recoveringTo !== undefined && this.log.stableReaches(this.recoveringTo)) this.recoveringTo = undefined;
    // The leader counts itself toward a quorum only for entries on its own disk.
    if (this.role === 'leader') this.maybeCommit();
  }

  // ---------------------------------------------------------------- introspection

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      membership: this.log.membership(),
      leadTransferee: this.leadTransferee,
      recovering: this.recoveringTo !== undefined,
      strayLeaderMessages: this.strayLeaderMessages,
      progress: [...this.replication.progress].map(([id, pr]) => ({
        id,
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
        recovering: pr.recovering,
      })),
    };
  }

  /** The voters of the configuration in force: cheaper than `status()` for a caller that needs only them. */
  voters(): readonly NodeId[] {
    return this.log.membership().voters;
  }

  /** Read-only access to the in-memory log, for the storage layer and the simulator's checkers. */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    // After the term moves, so that refusals reach followers that already live in the new term.
    this.reads.failAll();
    this.role = 'follower';
    this.leader = leader;
    this.resetTimers();
    this.votes.clear();
    this.replication.clear();
    this.leadTransferee = NONE;
    this.uncommittedBytes = 0;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // PreVote changes neither term nor vote: a node that cannot win disturbs nobody (Raft thesis §9.6).
    this.role = 'preCandidate';
    this.leader = NONE;
    this.votes.clear();
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.term++;
    this.vote = this.id;
    this.reads.failAll();
    this.role = 'candidate';
    this.leader = NONE;
    this.resetTimers();
    this.votes.clear();
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.leader = this.id;
    this.resetTimers();
    this.replication.clear();
    this.syncProgress();
    // The no-op commits the leader's term, which unlocks earlier entries (§5.4.2), reads and changes.
    this.appendAsLeader({ index: this.log.lastIndex() + 1, term: this.term, kind: 'noop', data: new Uint8Array(0) });
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.prng.int(this.config.electionTicks);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign('preVote');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      // CheckQuorum: a leader that has not heard from a majority steps down so the rest can elect.
      if (!this.quorumRecentlyActive()) {
        this.becomeFollower(this.term, NONE);
        return;
      }
      this.leadTransferee = NONE;
    }
    for (const pr of this.replication.progress.values()) {
      if (pr.state === 'snapshot' && this.ticks - pr.snapshotSentTick > this.config.snapshotTimeoutTicks) {
        pr.becomeProbe();
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.replication.broadcastHeartbeat('');
    }
  }

  private quorumRecentlyActive(): boolean {
    const active = hasQuorum(this.log.membership().voters, (id) => id === this.id || this.replication.progress.get(id)?.recentActive === true);
    for (const pr of this.replication.progress.values()) pr.recentActive = false;
    return active;
  }

  /**
   * A node campaigns when it votes in its newest configuration or in the committed one. The second
   * case matters when a leader appended its own removal and lost leadership before committing it:
   * its log is the most up to date, so nobody else can win, and it must take over to finish the
   * change. Votes are always counted in the newest configuration, so this changes who may ask, not
   * who decides.
   */
  private promotable(): boolean {
    if (this.log.pendingSnapshot !== undefined || this.recoveringTo !== undefined) return false;
    return isVoter(this.log.membership(), this.id) || isVoter(this.log.membershipAt(this.log.committed), this.id);
  }

  // ---------------------------------------------------------------- elections

  private campaign(kind: CampaignKind): void {
    if (kind === 'preVote') this.becomePreCandidate();
    else this.becomeCandidate();
    const messageType = kind === 'preVote' ? 'preVote' : 'vote';
    const messageTerm = kind === 'preVote' ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.onVoteCounted()) return;
    for (const voter of this.log.membership().voters) {
      if (voter === this.id) continue;
      this.send({
        type: messageType,
        to: voter,
        term: messageTerm,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer: kind === 'transfer',
      });
    }
  }

  /** Acts on the tally; true when the campaign ended. */
  private onVoteCounted(): boolean {
    const outcome = voteOutcome(this.log.membership().voters, this.votes);
    if (outcome === 'pending') return false;
    if (outcome === 'lost') {
      this.becomeFollower(this.term, NONE);
    } else if (this.role === 'preCandidate') {
      this.campaign('vote');
    } else {
      this.becomeLeader();
    }
    return true;
  }

  private onVoteRequest(message: VoteMessage): void {
    const responseType = message.type === 'preVote' ? 'preVoteResponse' : 'voteResponse';
    // A recovering node's log and vote may be missing what it once promised: it grants nothing.
    const canVote =
      this.recoveringTo === undefined &&
      (this.vote === message.from || (this.vote === NONE && this.leader === NONE) || (message.type === 'preVote' && message.term > this.term));
    if (canVote && this.log.isUpToDate(message.lastIndex, message.lastTerm)) {
      // A granted pre-vote answers at the campaign's future term, so the candidate can count it.
      this.send({ type: responseType, to: message.from, term: message.term, reject: false });
      if (message.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = message.from;
      }
      return;
    }
    this.send({ type: responseType, to: message.from, term: this.term, reject: true });
  }

  private onVoteResponse(message: VoteResponseMessage): void {
    const expected = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
    if (message.type !== expected) return;
    if (!isVoter(this.log.membership(), message.from)) return;
    this.votes.set(message.from, !message.reject);
    this.onVoteCounted();
  }

  // ---------------------------------------------------------------- message routing

  /** Handles a message from a later term; false when it must be ignored. */
  private acceptHigherTerm(message: Message): boolean {
    if (message.type === 'vote' || message.type === 'preVote') {
      // Leader lease: while we hear from a live leader, a disruptive candidate (a removed or
      // partitioned node) gets no answer at all, unless the leader itself asked for the election.
      const inLease = this.leader !== NONE && this.electionElapsed < this.config.electionTicks;
      if (inLease && !message.transfer) return false;
    }
    if (message.type === 'preVote') return true;
    if (message.type === 'preVoteResponse' && !message.reject) return true;
    const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
    this.becomeFollower(message.term, fromLeader ? message.from : NONE);
    return true;
  }

  private onStaleTerm(message: Message): void {
    if (message.type === 'append' || message.type === 'heartbeat') {
      // Tell a deposed leader about the newer term, so it steps down instead of retrying forever.
      this.send({ type: 'appendResponse', to: message.from, term: this.term, index: 0, reject: false, rejectHint: 0, rejectTerm: 0 });
    } else if (message.type === 'preVote') {
      this.send({ type: 'preVoteResponse', to: message.from, term: this.term, reject: true });
    }
  }

  private dispatch(message: Message): void {
    if (message.type === 'vote' || message.type === 'preVote') {
      this.onVoteRequest(message);
      return;
    }
    if (this.role === 'leader') this.stepLeader(message);
    else this.stepFollowerOrCandidate(message);
  }

  private stepLeader(message: Message): void {
    switch (message.type) {
      case 'appendResponse':
        this.onAppendResponse(message);
        return;
      case 'heartbeatResponse':
        this.onHeartbeatResponse(message);
        return;
      case 'readIndex':
        this.reads.request({ context: message.readContext, from: message.from });
        return;
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Two leaders in one term cannot happen among correct members (one vote per term each), so
        // this message comes from a faulty or forged peer: it is neither trusted nor allowed to stop
        // this node. Counted, so that an operator sees it.
        this.strayLeaderMessages++;
        return;
      case 'voteResponse':
      case 'preVoteResponse':
      case 'timeoutNow':
      case 'readIndexResponse':
        return;
      case 'vote':
      case 'preVote':
        return;
      default:
        unreachable(message, 'message type');
    }
  }

  private stepFollowerOrCandidate(message: Message): void {
    switch (message.type) {
      case 'append':
        this.followLeader(message.from);
        this.onAppend(message);
        return;
      case 'heartbeat':
        this.followLeader(message.from);
        this.onHeartbeat(message);
        return;
      case 'snapshot':
        this.followLeader(message.from);
        this.onSnapshot(message);
        return;
      case 'voteResponse':
      case 'preVoteResponse':
        if (this.role !== 'follower') this.onVoteResponse(message);
        return;
      case 'timeoutNow':
        if (this.role === 'follower' && this.promotable()) this.campaign('transfer');
        return;
      case 'readIndex':
        this.answerRead({ context: message.readContext, from: message.from }, { refusal: 'NOT_LEADER' });
        return;
      case 'readIndexResponse':
        if (message.reject) this.readFailures.push({ context: message.readContext, code: message.refusal });
        else this.readStates.push({ context: message.readContext, index: message.index });
        return;
      case 'appendResponse':
      case 'heartbeatResponse':
      case 'vote':
      case 'preVote':
        return;
      default:
        unreachable(message, 'message type');
    }
  }

  private followLeader(leader: NodeId): void {
    if (this.role !== 'follower') this.becomeFollower(this.term, leader);
    this.leader = leader;
    this.electionElapsed = 0;
  }

  // ---------------------------------------------------------------- follower replication

  private onAppend(message: AppendMessage): void {
    if (message.prevIndex < this.log.committed) {
      this.acceptAppend(message.from, this.log.committed);
      return;
    }
    const lastNewIndex = this.log.maybeAppend(message.prevIndex, message.prevTerm, message.commit, message.entries);
    if (lastNewIndex !== undefined) {
      this.acceptAppend(message.from, lastNewIndex);
      return;
    }
    const [rejectHint, rejectTerm] = this.log.findConflictByTerm(Math.min(message.prevIndex, this.log.lastIndex()), message.prevTerm);
    this.send({
      type: 'appendResponse',
      to: message.from,
      term: this.term,
      index: message.prevIndex,
      reject: true,
      rejectHint,
      rejectTerm,
    });
  }

  private acceptAppend(to: NodeId, index: number): void {
    this.send({ type: 'appendResponse', to, term: this.term, index, reject: false, rejectHint: 0, rejectTerm: 0 });
  }

  private onHeartbeat(message: HeartbeatMessage): void {
    this.log.commitTo(Math.min(message.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResponse', to: message.from, term: this.term, readContext: message.readContext });
  }

  private onSnapshot(message: SnapshotMessage): void {
    const meta = message.snapshot.meta;
    if (meta.index <= this.log.committed) {
      this.acceptAppend(message.from, this.log.committed);
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold the snapshot's last entry, so everything before it matches: just commit.
      this.log.commitTo(meta.index);
      this.acceptAppend(message.from, this.log.committed);
      return;
    }
    this.log.restore(message.snapshot);
    this.acceptAppend(message.from, this.log.lastIndex());
  }

  // ---------------------------------------------------------------- leader replication

  private appendAsLeader(entry: Entry): void {
    this.log.append([entry]);
    this.uncommittedBytes += entryBytes(entry);
    if (entry.kind === 'config') this.syncProgress();
    this.broadcastPending = true;
  }

  /** Keeps one progress per member of the newest configuration (it takes effect on append). */
  private syncProgress(): void {
    const current = this.replication.sync();
    if (this.leadTransferee !== NONE && !current.has(this.leadTransferee)) this.leadTransferee = NONE;
  }

  private onAppendResponse(message: AppendResponseMessage): void {
    const outcome = this.replication.onAppendResponse(message);
    if (outcome === undefined || !outcome.matchAdvanced) return;
    // A new commit index is not sent on its own: under load the next append carries it, and when idle
    // the next heartbeat does (followers apply up to one heartbeat later; reads through a follower
    // are answered after a heartbeat round, which carries it too). An empty append per commit was
    // two more frames and two more wake-ups per follower per write, on the two cores the
    // replication round itself needs.
    this.maybeCommit();
    if (outcome.wasPaused) this.replication.sendAppend(message.from, true);
    this.replication.fillPipeline(message.from);
    if (message.from === this.leadTransferee && this.replication.progress.get(message.from)?.match === this.log.lastIndex()) {
      this.send({ type: 'timeoutNow', to: message.from, term: this.term });
    }
  }

  private onHeartbeatResponse(message: HeartbeatResponseMessage): void {
    if (!this.replication.progress.has(message.from)) return;
    this.replication.onHeartbeatResponse(message);
    if (message.readContext !== '') this.reads.acknowledge(message.readContext, message.from);
  }

  /** Commits by counting replicas, but only entries of the current term (Raft §5.4.2, Figure 8). */
  private maybeCommit(): boolean {
    const voters = this.log.membership().voters;
    const index = committedIndex(voters, (id) => (id === this.id ? this.log.stableIndex : this.replication.countedMatch(id)));
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.releaseUncommittedBytes(this.log.committed + 1, index);
    this.log.commitTo(index);
    this.onCommitAdvanced();
    return true;
  }

  private releaseUncommittedBytes(from: number, to: number): void {
    for (let index = from; index <= to; index++) {
      const entry = this.log.entry(index)!;
      if (entry.term === this.term) this.uncommittedBytes -= entryBytes(entry);
    }
    assert(this.uncommittedBytes >= 0, 'uncommitted bytes went negative');
  }

  private onCommitAdvanced(): void {
    this.reads.onCommitAdvanced();
    // A leader removed from the voters serves until its removal commits, then stands aside.
    const removed = !isVoter(this.log.membership(), this.id);
    if (removed && this.log.membershipIndex() <= this.log.committed) this.becomeFollower(this.term, NONE);
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private proposalRefusal(): RaftError | undefined {
    if (this.role !== 'leader') return new RaftError('NOT_LEADER', 'this node is not the leader', this.leader);
    if (this.leadTransferee !== NONE) return new RaftError('TRANSFER_IN_PROGRESS', 'leadership is being transferred');
    return undefined;
  }

  // ---------------------------------------------------------------- linearizable reads

  /** Answers a read: locally through the next ready, or to the follower that forwarded it. */
  private answerRead(request: ReadIndexRequest, outcome: ReadOutcome): void {
    const granted = 'index' in outcome;
    if (request.from === this.id) {
      if (granted) this.readStates.push({ context: request.context, index: outcome.index });
      else this.readFailures.push({ context: request.context, code: outcome.refusal });
      return;
    }
    // The wire field `refusal` is always set; the follower reads it only when `reject` says so.
    this.send({
      type: 'readIndexResponse',
      to: request.from,
      term: this.term,
      readContext: request.context,
      index: granted ? outcome.index : 0,
      reject: !granted,
      refusal: granted ? 'READ_DROPPED' : outcome.refusal,
    });
  }

  // ---------------------------------------------------------------- helpers

  private send(message: Outgoing): void {
    const answer = message.type === 'appendResponse' || message.type === 'heartbeatResponse';
    const recovering = answer && this.recoveringTo !== undefined;
    this.messages.push((recovering ? { ...message, from: this.id, recovering } : { ...message, from: this.id }) as Message);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader };
  }

  private assertNoReadyOutstanding(): void {
    assert(this.handedOut === undefined, 'the core was driven between ready() and advance()');
  }
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly membership: Membership;
  readonly leadTransferee: NodeId;
  /** This node lost acknowledged data and is being repaired: it neither votes nor campaigns. */
  readonly recovering: boolean;
  /** Append, heartbeat or snapshot messages that claimed leadership of this leader's own term, dropped. */
  readonly strayLeaderMessages: number;
  readonly progress: readonly { id: NodeId; match: number; next: number; state: string; recentActive: boolean; recovering: boolean }[];
}

function refuse(code: RaftError['code'], message: string): ProposeResult {
  return { ok: false, error: new RaftError(code, message) };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader;
}
