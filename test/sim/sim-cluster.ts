import {
  bootstrapState,
  EMPTY_MEMBERSHIP,
  EMPTY_STATE,
  type Entry,
  isMessage,
  isSendableBeforePersist,
  isSnapshotAnnouncement,
  type Message,
  type NodeId,
  Raft,
  type RaftConfig,
  raftConfig,
  type Snapshot,
} from '../../src/raft/index.ts';
import { Prng } from '../../src/shared/index.ts';
import { planStart } from '../../src/storage/start-plan.ts';
import { type AppliedRecord, type LogView, SafetyChecker } from './safety-checker.ts';
import { SimDisk } from './sim-disk.ts';
import { SimNetwork } from './sim-network.ts';

export interface SimClusterOptions {
  readonly voters: number;
  /** Nodes started blank, outside the configuration, for membership changes to add. */
  readonly spares: number;
  readonly seed: number;
  readonly redeliverPercent?: number;
  readonly crashMidWritePermille?: number;
  readonly reconfigureOnElection?: boolean;
  readonly raft: Partial<Omit<RaftConfig, 'id'>>;
}

/** One simulated process: its disk outlives it; its Raft core and memory do not. */
interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  raft: Raft | undefined;
  starts: number;
  appliedIndex: number;
  /** The state machine: every normal entry applied, in order. Snapshots carry it whole. */
  state: AppliedRecord[];
}

/** Counts of rare events, to show that a schedule mix reaches them. */
export interface SimCounters {
  elections: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  membershipChanges: number;
  transfers: number;
  readsServed: number;
  crashes: number;
  crashesMidWrite: number;
  /** Stopped nodes whose disk lost entries they had acknowledged, then restarted recovering. */
  disksDamaged: number;
  /** Recovering nodes repaired from a leader until they could vote again. */
  recoveries: number;
}

/** A cluster of pure Raft cores wired to simulated disks and a simulated network. */
export class SimCluster {
  readonly ids: NodeId[];
  readonly network = new SimNetwork();
  readonly checker = new SafetyChecker();
  readonly counters: SimCounters = {
    elections: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0,
    membershipChanges: 0,
    transfers: 0,
    readsServed: 0,
    crashes: 0,
    crashesMidWrite: 0,
    disksDamaged: 0,
    recoveries: 0,
  };
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly leaders = new Map<NodeId, Raft>();
  private readonly networkPrng: Prng;
  /** Retransmission is a fault: healing stops it. */
  redeliverPercent: number;
  crashMidWritePermille: number;
  private nextValue = 1;
  private nextRead = 1;
  /** Proposals the leader applied: acknowledged to the client, so they must never be lost. */
  readonly acknowledged = new Map<number, AppliedRecord>();
  private readonly proposals = new Map<number, { proposer: NodeId; index: number; term: number }>();

  constructor(private readonly options: SimClusterOptions) {
    this.networkPrng = new Prng(options.seed * 31 + 7);
    this.redeliverPercent = options.redeliverPercent ?? 0;
    this.crashMidWritePermille = options.crashMidWritePermille ?? 0;
    this.ids = Array.from({ length: options.voters + options.spares }, (_, i) => `n${i + 1}`);
    const voters = this.ids.slice(0, options.voters);
    for (const id of this.ids) {
      const initial = voters.includes(id) ? bootstrapState({ voters, learners: [] }) : EMPTY_STATE;
      const node: SimNode = { id, disk: new SimDisk(id, initial), raft: undefined, starts: 0, appliedIndex: 0, state: [] };
      this.nodes.set(id, node);
      this.start(node);
    }
    this.checker.trackLeaders(this.leaders);
  }

  idAt(pick: number): NodeId {
    return this.ids[pick % this.ids.length]!;
  }

  raftOf(id: NodeId): Raft | undefined {
    return this.nodes.get(id)!.raft;
  }

  upNodes(): [NodeId, Raft][] {
    const up: [NodeId, Raft][] = [];
    for (const node of this.nodes.values()) if (node.raft !== undefined) up.push([node.id, node.raft]);
    return up;
  }

  /** The up leader of the highest term, if any. */
  leader(): [NodeId, Raft] | undefined {
    let best: [NodeId, Raft] | undefined;
    for (const [id, raft] of this.upNodes()) {
      const status = raft.status();
      if (status.role === 'leader' && (best === undefined || status.term > best[1].status().term)) best = [id, raft];
    }
    return best;
  }

  // ------------------------------------------------------------ actions

  deliver(pick: number): void {
    const message = this.network.take(pick);
    if (message === undefined) return;
    const node = this.nodes.get(message.to);
    if (node?.raft === undefined) return;
    if (this.networkPrng.int(100) < this.redeliverPercent) this.network.send([message]);
    if (message.type === 'snapshot') this.counters.snapshotsSent++;
    node.raft.step(message);
    this.afterInput(node);
  }

  tick(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.raft === undefined) return;
    node.raft.tick();
    this.afterInput(node);
  }

  tickAll(): void {
    for (const id of this.ids) this.tick(id);
  }

  /** Proposes a fresh value on `id`; returns it when the node accepted the proposal. */
  propose(id: NodeId): number | undefined {
    const node = this.nodes.get(id)!;
    if (node.raft === undefined) return undefined;
    const value = this.nextValue++;
    const result = node.raft.propose(encodeValue(value));
    if (result.ok) this.proposals.set(value, { proposer: id, index: result.index, term: result.term });
    this.afterInput(node);
    return result.ok ? value : undefined;
  }

  read(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.raft === undefined) return;
    const context = `r${this.nextRead++}`;
    this.checker.onReadInvoked(context);
    node.raft.readIndex(context);
    this.afterInput(node);
  }

  changeMembership(type: 'addLearner' | 'addVoter' | 'demote' | 'remove', target: NodeId): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const result = leader[1].proposeMembershipChange({ type, node: target });
    if (result.ok) this.counters.membershipChanges++;
    this.afterInput(this.nodes.get(leader[0])!);
  }

  transferLeadership(target: NodeId): void {
    const leader = this.leader();
    if (leader === undefined) return;
    if (leader[1].transferLeadership(target) === undefined) this.counters.transfers++;
    this.afterInput(this.nodes.get(leader[0])!);
  }

  /** A process crash with power loss: memory and unsynced writes are gone. */
  crash(id: NodeId, outbox = false): void {
    const node = this.nodes.get(id)!;
    if (node.raft === undefined) return;
    node.raft = undefined;
    this.leaders.delete(id);
    node.disk.powerLoss();
    this.network.dropTo(id);
    if (outbox) this.network.dropFrom(id);
    this.counters.crashes++;
    // A dead process's sockets close, and peers may hear of it at once (a power cut says nothing).
    if (this.networkPrng.int(2) === 0) for (const peer of this.ids) if (peer !== id) this.reportLinkDown(peer, id);
  }

  /** The node's transport says its link to its leader closed, whether or not the leader lives. */
  linkDown(id: NodeId): void {
    const leader = this.nodes.get(id)!.raft?.status().leader;
    if (leader !== undefined) this.reportLinkDown(id, leader);
  }

  private reportLinkDown(id: NodeId, peer: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.raft === undefined) return;
    node.raft.leaderUnreachable(peer);
    this.afterInput(node);
  }

  restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.raft !== undefined) return;
    this.start(node);
    this.afterInput(node);
  }

  /** Takes a snapshot at the applied index and compacts the log below it. */
  compact(id: NodeId): void {
    const node = this.nodes.get(id)!;
    const raft = node.raft;
    if (raft === undefined) return;
    const base = raft.status().firstIndex - 1;
    if (node.appliedIndex <= base) return;
    const snapshot: Snapshot = { meta: raft.snapshotMetaAt(node.appliedIndex), data: encodeState(node.state) };
    node.disk.saveSnapshot(snapshot);
    raft.compact(snapshot);
  }

  restartAllDown(): void {
    for (const id of this.ids) this.restart(id);
  }

  /**
   * Damages a stopped node's disk below what it acknowledged (RELIABILITY R11): its log loses its
   * tail down to below both ends its mark recorded, or its snapshot too. One node at a time: a
   * recovering node cannot vote, so more would be more than a minority in a small configuration.
   */
  damage(id: NodeId, pick: number): void {
    const node = this.nodes.get(id)!;
    if (node.raft !== undefined || this.ids.some((other) => this.isRecovering(other))) return;
    // Survivable only if the other voters still make a quorum without it (see haltedByRecovery).
    if (this.logView(id).membership.voters.length < 3) return;
    const { previous, current } = node.disk.mark;
    const below = Math.min(previous.index, current.index);
    if (below === 0) return;
    const base = node.disk.synced.snapshot?.meta.index ?? 0;
    node.disk.truncate(below <= base ? -1 : pick % (below - base));
    this.counters.disksDamaged++;
  }

  /** Recovering now, or would be on restart (a damaged disk of a stopped node). */
  isRecovering(id: NodeId): boolean {
    const { raft, disk } = this.nodes.get(id)!;
    if (raft !== undefined) return raft.status().recovering;
    return planStart(id, disk.load(), [], disk.mark).persisted.recovery !== undefined;
  }

  // ------------------------------------------------------------ the ready loop

  private start(node: SimNode): void {
    node.starts++;
    // As the server's storage does: check the disk against the mark, and discard a damaged log.
    const plan = planStart(node.id, node.disk.load(), [], node.disk.mark);
    node.disk.restartFrom(plan.persisted, plan.mark);
    const persisted = plan.persisted;
    const prng = new Prng(this.options.seed * 977 + this.ids.indexOf(node.id) * 131 + node.starts);
    node.raft = new Raft(raftConfig(node.id, this.options.raft), persisted, prng);
    node.state = persisted.snapshot === undefined ? [] : decodeState(persisted.snapshot.data);
    node.appliedIndex = persisted.snapshot?.meta.index ?? 0;
  }

  /**
   * Every message a correct node sends must pass the check peers apply at the edge (`isMessage`):
   * a shape rule that refused real traffic would cut a healthy cluster apart only in production.
   */
  private checkWireShapes(node: SimNode, messages: readonly Message[]): void {
    for (const message of messages) {
      const accepted = message.type === 'snapshot' ? isSnapshotAnnouncement({ ...message, snapshot: { meta: message.snapshot.meta } }) : isMessage(message);
      if (!accepted)
        this.checker.fail(
          `Wire: ${node.id} sent a ${message.type} that peers would refuse: ${JSON.stringify(message, (_key, value: unknown) => (value instanceof Uint8Array ? `<${value.length} bytes>` : value))}`,
        );
    }
  }

  /** Runs the node's ready loop to quiescence, then checks every invariant that could have moved. */
  private afterInput(node: SimNode): void {
    const raft = node.raft!;
    let logChanged = false;
    let elected = false;
    while (raft.hasReady()) {
      const ready = raft.ready();
      this.checkWireShapes(node, ready.messages);
      // As the server's driver does: a leader's appends leave before its write; the rest after.
      this.network.send(ready.messages.filter(isSendableBeforePersist));
      if (this.networkPrng.int(1000) < this.crashMidWritePermille) {
        this.counters.crashesMidWrite++;
        // The mark file is written beside the batch: either may land without the other.
        if (ready.mustSync && this.networkPrng.int(2) === 0) node.disk.writeMark(ready);
        this.crash(node.id);
        return;
      }
      const recovering = raft.status().recovering;
      node.disk.write(ready);
      const late = ready.messages.filter((message) => !isSendableBeforePersist(message));
      this.checkPromisesSynced(node, late, recovering);
      this.network.send(late);
      if (ready.snapshot !== undefined) this.installSnapshot(node, ready.snapshot);
      for (const entry of ready.committedEntries) this.apply(node, entry);
      for (const read of ready.readStates) {
        this.counters.readsServed++;
        this.checker.onReadServed(node.id, read.context, read.index);
      }
      if (ready.softState?.role === 'leader') this.counters.elections++;
      elected ||= ready.softState?.role === 'leader';
      logChanged ||= ready.entries.length > 0 || ready.snapshot !== undefined;
      raft.advance();
      if (recovering && !raft.status().recovering) this.counters.recoveries++;
    }
    // Quiet now: the storage may settle the mark before the next write, or not yet.
    if (this.networkPrng.int(2) === 0) node.disk.settleMark();
    if (raft.status().role === 'leader') this.leaders.set(node.id, raft);
    else this.leaders.delete(node.id);
    this.checker.checkNode(node.id, raft);
    if (logChanged) this.checkLogMatchingOf(node.id, raft);
    if (elected && this.options.reconfigureOnElection === true) {
      // Several tries: most random picks are refused (adding a present node, removing an absent one),
      // and the change that matters is the one a fresh leader manages to propose.
      for (let tries = 0; tries < 4; tries++) {
        const type = (['addLearner', 'addVoter', 'demote', 'remove'] as const)[this.networkPrng.int(4)]!;
        if (!raft.proposeMembershipChange({ type, node: this.ids[this.networkPrng.int(this.ids.length)]! }).ok) continue;
        this.counters.membershipChanges++;
        break;
      }
      this.afterInput(node);
    }
    this.checker.checkElectable(() => this.ids.map((id) => this.logView(id)), logChanged);
  }

  /**
   * A message leaves only once what it promises survives a power loss: a vote (in the store and in
   * the mark), an acknowledged entry. A recovering node promises nothing: it grants no vote, and
   * flags its answers so that no leader counts them.
   */
  private checkPromisesSynced(node: SimNode, messages: readonly Message[], recovering: boolean): void {
    const { hardState, snapshot, entries } = node.disk.synced;
    const mark = node.disk.mark;
    const last = entries[entries.length - 1]?.index ?? snapshot?.meta.index ?? 0;
    for (const m of messages) {
      const vote = m.type === 'vote' ? node.id : m.type === 'voteResponse' && !m.reject ? m.to : undefined;
      if (vote !== undefined && (hardState.term !== m.term || hardState.vote !== vote || mark.term !== m.term || mark.vote !== vote)) {
        this.checker.fail(
          `Durability: ${node.id} sent ${m.type} for ${vote} in term ${m.term} with term ${hardState.term}, vote '${hardState.vote}' synced (mark: ${mark.term}, '${mark.vote}')`,
        );
      }
      if (m.type === 'appendResponse' && !m.reject && m.index > last) this.checker.fail(`Durability: ${node.id} acked ${m.index} with ${last} synced`);
      if (!recovering) continue;
      if ((m.type === 'voteResponse' || m.type === 'preVoteResponse') && !m.reject)
        this.checker.fail(`Recovery: ${node.id} granted a ${m.type} to ${m.to} while recovering`);
      if (m.type === 'vote' || m.type === 'preVote') this.checker.fail(`Recovery: ${node.id} campaigned while recovering`);
      if ((m.type === 'appendResponse' || m.type === 'heartbeatResponse') && m.recovering !== true) {
        this.checker.fail(`Recovery: ${node.id} sent an unflagged ${m.type} while recovering`);
      }
    }
  }

  /** A node's log as an election would see it: in memory if it is up, else what its disk synced. */
  private logView(id: NodeId): LogView {
    const { raft, disk } = this.nodes.get(id)!;
    const voting = !this.isRecovering(id);
    if (raft !== undefined) {
      const s = raft.status();
      return {
        id,
        voting,
        membership: s.membership,
        snapshotIndex: s.firstIndex - 1,
        lastIndex: s.lastIndex,
        lastTerm: raft.termAt(s.lastIndex)!,
        entryAt: (i) => raft.entryAt(i),
      };
    }
    const { snapshot, entries } = disk.synced;
    const base = snapshot?.meta.index ?? 0;
    let membership = snapshot?.meta.membership ?? EMPTY_MEMBERSHIP;
    for (const entry of entries) if (entry.kind === 'config') membership = entry.membership!;
    const last = entries[entries.length - 1];
    return {
      id,
      voting,
      membership,
      snapshotIndex: base,
      lastIndex: last?.index ?? base,
      lastTerm: last?.term ?? snapshot?.meta.term ?? 0,
      entryAt: (i) => entries[i - base - 1],
    };
  }

  private checkLogMatchingOf(id: NodeId, raft: Raft): void {
    for (const [otherId, other] of this.upNodes()) if (otherId !== id) this.checker.checkLogMatching(id, raft, otherId, other);
  }

  private installSnapshot(node: SimNode, snapshot: Snapshot): void {
    this.counters.snapshotsInstalled++;
    node.state = decodeState(snapshot.data);
    node.appliedIndex = snapshot.meta.index;
    for (const record of node.state) this.checker.onApplied(node.id, record);
  }

  private apply(node: SimNode, entry: Entry): void {
    if (entry.index !== node.appliedIndex + 1) {
      this.checker.fail(`${node.id} applied index ${entry.index} after ${node.appliedIndex}`);
    }
    node.appliedIndex = entry.index;
    if (entry.kind !== 'normal') return;
    const record = { index: entry.index, term: entry.term, value: decodeValue(entry.data) };
    node.state.push(record);
    this.checker.onApplied(node.id, record);
    const proposal = this.proposals.get(record.value);
    if (proposal?.proposer === node.id && proposal.index === entry.index && proposal.term === entry.term) {
      this.acknowledged.set(record.value, record);
    }
  }

  appliedIndexOf(id: NodeId): number {
    return this.nodes.get(id)!.appliedIndex;
  }

  stateOf(id: NodeId): readonly AppliedRecord[] {
    return this.nodes.get(id)!.state;
  }
}

function encodeValue(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

function decodeValue(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
}

function encodeState(state: readonly AppliedRecord[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state.map((r) => [r.index, r.term, r.value])));
}

function decodeState(data: Uint8Array): AppliedRecord[] {
  const rows = JSON.parse(new TextDecoder().decode(data)) as [number, number, number][];
  return rows.map(([index, term, value]) => ({ index, term, value }));
}
