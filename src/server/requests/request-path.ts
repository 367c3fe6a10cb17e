import type { QueueCommand, QueueResult, QueueStateMachine } from '../../queue/index.ts';
import type { NodeId, Raft, ReadFailure, ReadState, SoftState } from '../../raft/index.ts';
import { assert, type ClientRequest, RequestError, type WriteRequest } from '../../shared/index.ts';
import type { PeerFrame } from '../../transport/index.ts';
import type { ClusterView } from '../membership/index.ts';
import { toErrorBody } from './error-body.ts';
import { Forwarder } from './forwarder.ts';
import { forwardedRequest } from './frame-request.ts';
import { LeaderWait } from './leader-wait.ts';
import { isReadRequest, readLocally } from './local-reads.ts';
import { QueueService } from './queue-service.ts';
import { ReadBarrier } from './read-barrier.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';
import { commandOfOp, versionHold, versionRefusal } from './version-gate.ts';

/** Runs inputs on the Raft core between ready batches (the `RaftDriver`). */
export interface CoreInput {
  submit(input: (raft: Raft) => void): void;
}

/** The peer links: forwarding goes out on them, and a leader is reachable only over one. */
export interface PeerLinks {
  send(to: NodeId, frame: PeerFrame): boolean;
  isConnected(peer: NodeId): boolean;
}

/** Whether this node's disk refuses writes now (see `DiskTrouble`), and what to tell callers then. */
export interface DiskState {
  refusal(): RequestError | undefined;
}

/** The clocks requests are timed and stamped by (see `ClusterClock`). */
export interface RequestClocks {
  clusterWallMs(): number;
  monoMs(): number;
}

export interface RequestPathOptions {
  readonly id: NodeId;
  readonly machine: QueueStateMachine;
  readonly core: CoreInput;
  readonly peers: PeerLinks;
  readonly clocks: RequestClocks;
  readonly disk: DiskState;
  /** Whether this node hears no other (see `PeerActivity`): it answers NO_LEADER at once instead of waiting. */
  readonly cutOff: () => boolean;
  /** The cluster as this node sees it, for `GET /cluster`. */
  readonly cluster: () => ClusterView;
  readonly requestTimeoutMs: number;
  readonly leaderWaitMs: number;
  readonly forwardsInFlightMax: number;
  readonly pendingProposalsMax: number;
  readonly memoryBudgetBytes: number;
  /** Members whose release does not support a cluster version (see `ClusterVersionRaise.membersBelow`). */
  readonly membersBelow: (version: number) => readonly string[];
}

/**
 * Every client request's way through a node, both halves of forwarding included:
 *
 *   dispatch ─┬─ read ──► linearizable (ReadIndex through the core) ──► readLocally
 *             └─ write ─► leader? ─ yes ─► QueueService.execute ─► proposal ─► log ─► onEntryApplied
 *                                  └ no ──► Forwarder ─► peer link ─► leader's onForward ─► execute
 *                                           ◄── onForwardReply ◄── forwardReply frame ◄──┘
 *
 * A node that cannot serve (its disk refuses writes, or it is stopping) refuses here, in one place,
 * with a retryable code, whether the request came from a client or was forwarded by a peer.
 */
export class RequestPath {
  private readonly leaderWait: LeaderWait;
  private readonly forwarder: Forwarder;
  private readonly readBarrier = new ReadBarrier();
  private readonly queueService: QueueService;
  private leader: NodeId = '';
  private appliedIndex = 0;
  private stopping = false;

  constructor(private readonly options: RequestPathOptions) {
    this.leaderWait = new LeaderWait({
      leader: () => this.leader,
      reachable: (leader) => leader === options.id || options.peers.isConnected(leader),
      cutOff: options.cutOff,
      waitMs: options.leaderWaitMs,
    });
    this.forwarder = new Forwarder({
      send: (to, frame) => options.peers.send(to, frame),
      inFlightMax: options.forwardsInFlightMax,
      timeoutMs: options.requestTimeoutMs,
    });
    this.queueService = new QueueService({
      submit: (input) => options.core.submit(input),
      machine: options.machine,
      clusterWallMs: () => options.clocks.clusterWallMs(),
      monoMs: () => options.clocks.monoMs(),
      proposalTimeoutMs: options.requestTimeoutMs,
      pendingProposalsMax: options.pendingProposalsMax,
      memoryBudgetBytes: options.memoryBudgetBytes,
      membersBelow: options.membersBelow,
    });
  }

  /** On the leader: proposes the raise of the cluster version (see `ClusterVersionRaise`). */
  raiseClusterVersion(version: number): Promise<number> {
    return this.queueService.raiseClusterVersion(version);
  }

  /** Requests this node started that have no answer yet: its proposals and its forwards. */
  get inFlight(): number {
    return this.queueService.pendingCount + this.forwarder.size;
  }

  /** Why this node can serve no client at all now (its disk), or undefined when it can. */
  unserviceable(): string | undefined {
    return this.options.disk.refusal()?.message;
  }

  // ------------------------------------------------------------ a client's request

  /** Runs any client request: writes through the leader, reads from local state after a ReadIndex. */
  async dispatch(request: ClientRequest): Promise<unknown> {
    if (!isReadRequest(request)) return this.write(request);
    if (!request.stale) await this.linearizable();
    return readLocally(this.options.machine, this.options.cluster, request);
  }

  /** A write: executed here when this node leads, otherwise forwarded to the leader. */
  async write(request: WriteRequest): Promise<unknown> {
    if (this.stopping) throw new RequestError('SHUTTING_DOWN', 'this node is shutting down', RETRY_AFTER_MS.goneHere);
    this.refuseIfDiskFails();
    // Here too, not only on the leader: a leader of an older release would not know the command at all.
    // When no member is below, this replica only lags behind the raise: the leader decides.
    const type = commandOfOp(request.op);
    const hold = versionHold(type, this.options.machine.clusterVersion, this.options.membersBelow);
    if (hold !== undefined && hold.holders.length > 0) throw versionRefusal(type, hold);
    const leader = await this.leaderWait.leader();
    if (leader === this.options.id) return this.queueService.execute(request);
    return this.forwarder.forward(leader, request);
  }

  /** Resolves, with the index read, once this node's state reflects every write committed before the call (ReadIndex). */
  async linearizable(): Promise<number> {
    this.refuseIfDiskFails();
    await this.leaderWait.leader();
    const { context, done } = this.readBarrier.begin(this.options.requestTimeoutMs);
    this.options.core.submit((raft) => raft.readIndex(context));
    return done;
  }

  // ------------------------------------------------------------ forwarding, both halves

  /** The leader's half: a follower's client request, run here once it passes the same checks as a client's. */
  onForward(from: NodeId, requestId: number, raw: Record<string, unknown>): void {
    void this.executeForwarded(raw).then(
      (result) => this.options.peers.send(from, { t: 'forwardReply', requestId, ok: true, result }),
      (error: unknown) => this.options.peers.send(from, { t: 'forwardReply', requestId, ok: false, error: toErrorBody(error) }),
    );
  }

  /** The follower's half: the leader's answer to a request this node forwarded. */
  onForwardReply(from: NodeId, frame: Extract<PeerFrame, { t: 'forwardReply' }>): void {
    this.forwarder.onReply(from, frame);
  }

  /** The link to `peer` dropped: what was forwarded to it has an unknown outcome. */
  onLinkDown(peer: NodeId): void {
    this.forwarder.onLinkDown(peer);
  }

  private async executeForwarded(raw: Record<string, unknown>): Promise<unknown> {
    this.refuseIfDiskFails();
    return this.queueService.execute(forwardedRequest(raw));
  }

  // ------------------------------------------------------------ what the core reports

  /**
   * The core's role or leader changed. Requests forwarded to a leader that is no longer ours may
   * never be answered (it may be paused or cut off): their callers hear now that the outcome is
   * unknown, and retry on the new leader.
   */
  onSoftState(before: SoftState, state: SoftState, leadershipGraceMs: number): void {
    this.leader = state.leader;
    if (before.leader !== '' && before.leader !== state.leader) this.forwarder.onLinkDown(before.leader);
    if (before.role === 'leader' && state.role !== 'leader') this.queueService.onLeadershipLost(leadershipGraceMs);
    this.leaderWait.onLeaderChange();
  }

  onReadState(read: ReadState): void {
    this.readBarrier.onReadState(read.context, read.index, this.appliedIndex);
  }

  onReadFailure(failure: ReadFailure): void {
    this.readBarrier.onReadFailure(failure.context);
  }

  /** Every applied command, in log order, on every node: it may fill a queue a long poll waits on. */
  onCommandApplied(command: QueueCommand): void {
    this.queueService.onApplied(command);
  }

  /** An entry's commands were applied: the proposer answers its callers. */
  onEntryApplied(index: number, term: number, results: readonly QueueResult[]): void {
    this.queueService.onEntryApplied(index, term, results);
  }

  /** The replica reached `index` (by an entry or a snapshot): reads waiting for it are answered. */
  onAppliedIndex(index: number): void {
    assert(index >= this.appliedIndex, 'the applied index moved back without a restore');
    this.appliedIndex = index;
    this.readBarrier.onApplied(index);
  }

  /** The replica was rebuilt from storage (start, or after disk trouble): its index starts over. */
  onRestored(index: number): void {
    this.appliedIndex = index;
  }

  /** The leader's timers: a `tick` is proposed when a lease or delay falls due. */
  expireIfDue(): void {
    this.queueService.expireIfDue();
  }

  // ------------------------------------------------------------ refusing

  /** The node is shutting down: new writes are refused with a retryable code; those in flight may finish. */
  stop(): void {
    this.stopping = true;
  }

  private refuseIfDiskFails(): void {
    const refusal = this.options.disk.refusal();
    if (refusal !== undefined) throw refusal;
  }

  /** Every request waiting on this node fails with `error` (the node stopped, or its core was dropped). */
  failAll(error: RequestError): void {
    this.queueService.failAll(error);
    this.readBarrier.failAll();
  }
}
