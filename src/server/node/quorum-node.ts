import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { QueueStateMachine } from '../../queue/index.ts';
import {
  bootstrapState,
  type Entry,
  type Message,
  type NodeId,
  type PersistedState,
  Raft,
  raftConfig,
  type Snapshot,
  type SoftState,
} from '../../raft/index.ts';
import { decode, encode } from '../../shared/codec.ts';
import { EMPTY_READY } from '../replication/empty-ready.ts';
import { CLIENT_SOCKET_PATH, PEER_SOCKET_PATH, Prng, RequestError, type WriteRequest } from '../../shared/index.ts';
import {
  DiskFaults,
  Failpoints,
  type NodeStorageOptions,
  openNodeStorage,
  type OpenedStorage,
  PowerCut,
  probeDisk,
  type RaftStorage,
  StorageWriteError,
} from '../../storage/index.ts';
import {
  DEFAULT_SNAPSHOT_STREAM_LIMITS,
  FaultFilter,
  type PeerFrame,
  type PeerIdentity,
  flushCoalescedWrites,
  PeerTransport,
  SnapshotReceiver,
  SnapshotSender,
} from '../../transport/index.ts';
import { decideBootstrap } from '../membership/bootstrap-decision.ts';
import { ClientSockets } from '../api/client-sockets.ts';
import { type ClusterView, clusterView } from '../membership/cluster-view.ts';
import { Forwarder, toErrorBody } from '../requests/forwarder.ts';
import { HttpApi, type WebSocketEndpoint } from '../api/http-api.ts';
import { createHttpGuards } from '../access/http-guards.ts';
import { pollUntil } from './poll-until.ts';
import { NodeMetrics } from './node-metrics.ts';
import type { NodeOptions } from './node-options.ts';
import { QueueService } from '../requests/queue-service.ts';
import { autopilotConfig, DEFAULT_AUTOPILOT } from '../membership/autopilot.ts';
import { DiskTrouble, openWhenWritable } from './disk-trouble.ts';
import { DiskWatch } from './disk-watch.ts';
import type { FaultControls } from '../api/fault-admin.ts';
import { NodeClock } from '../clocks/node-clock.ts';
import { LeaderWait } from '../requests/leader-wait.ts';
import { PeerActivity } from '../membership/peer-activity.ts';
import { PeerClocks } from '../clocks/peer-clocks.ts';
import { LeaderDuties } from '../membership/leader-duties.ts';
import { LocalSnapshots } from '../replication/local-snapshots.ts';
import { MembershipService } from '../membership/membership-service.ts';
import { withFailpoints } from '../replication/failpoint-hooks.ts';
import { RaftDriver } from '../replication/raft-driver.ts';
import { RateLimitedLog } from '../access/rate-limited-log.ts';
import { checkExposure, loadNodeSecurity, type NodeSecurity } from './node-security.ts';
import { forwardedRequest } from '../requests/frame-request.ts';
import { EntryCommands } from '../replication/entry-commands.ts';
import { ReadBarrier } from '../requests/read-barrier.ts';

/** Peer links one node accepts at once: far above any cluster's size, far below what would hurt. */
const PEER_LINKS_MAX = 256;
/** A peer link must finish its handshake within this: a stalled one holds no socket for long. */
const PEER_HANDSHAKE_MS = 5_000;
/** How often free space is checked against the reserve. */
const FREE_SPACE_CHECK_MS = 1000;
const EMPTY_QUEUES = new QueueStateMachine().snapshot();

/** Everything the client-facing APIs need from a node. */
export interface RequestHandler {
  write(request: WriteRequest): Promise<unknown>;
  linearizable(): Promise<void>;
  readonly machine: QueueStateMachine;
  cluster(): ClusterView;
  health(): { ok: boolean; reason: string };
  /** Why this node can serve no client at all now (its disk), or undefined when it can. */
  unserviceable(): string | undefined;
  readonly metrics: NodeMetrics;
  readonly faultControls: FaultControls | undefined;
  peers(): readonly PeerIdentity[];
}

/**
 * One quorumq peer: storage, the Raft core and its driver, the queue state machine, peer links,
 * and the HTTP and WebSocket endpoints, all on one port. Every node runs this same program.
 */
export class QuorumNode implements RequestHandler {
  readonly machine = new QueueStateMachine();
  readonly metrics: NodeMetrics;
  readonly faults: FaultFilter | undefined;
  readonly diskTrouble: DiskTrouble;
  private readonly diskWatch: DiskWatch;
  readonly clock: NodeClock;
  private readonly peerClocks = new PeerClocks();
  private readonly peerActivity = new PeerActivity();
  private readonly leaderDuties: LeaderDuties;
  private readonly httpServer: Server;
  private readonly transport: PeerTransport;
  private readonly forwarder: Forwarder;
  private readonly snapshotSender: SnapshotSender;
  private readonly snapshotReceiver: SnapshotReceiver;
  private readonly queueService: QueueService;
  private readonly readBarrier = new ReadBarrier();
  private readonly clientSockets: ClientSockets;
  private driver!: RaftDriver;
  private readonly membership: MembershipService;
  private founders: readonly NodeId[] | null = null;
  private softState: SoftState = { role: 'follower', leader: '' };
  private appliedIndex = 0;
  readonly snapshots: LocalSnapshots;
  private damagedAtStart = 0;

  get damagedSnapshotsAtStart(): number {
    return this.damagedAtStart;
  }

  get snapshotStreams(): { completed: number; abandoned: number; rejected: number } {
    return { completed: this.snapshotSender.completed, abandoned: this.snapshotSender.abandoned, rejected: this.snapshotReceiver.rejected };
  }
  private timers: NodeJS.Timeout[] = [];
  private readonly leaderWait: LeaderWait;
  private stopping = false;
  /** Refused peer links and requests: logged, at a rate no stranger can raise. */
  private readonly refusalLog: RateLimitedLog;
  private readonly entryCommands: EntryCommands;

  private constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly options: NodeOptions,
    private storage: RaftStorage,
    private readonly log: Logger,
    private readonly storageOptions: NodeStorageOptions,
    private readonly security: NodeSecurity,
  ) {
    this.refusalLog = new RateLimitedLog(log);
    this.faults = options.enableFaultInjection ? new FaultFilter() : undefined;
    // Silence from every peer this long means cut off: well past a gossip probe round (10 gossip ticks) and an election.
    const cutOffAfterMs = Math.max(3 * options.tickMs * options.electionTicks, 15 * options.gossipTickMs);
    this.leaderWait = new LeaderWait({
      leader: () => this.softState.leader,
      reachable: (leader) => leader === this.id || this.transport.isConnected(leader),
      cutOff: () => this.peerActivity.hearsNoPeer(this.clock.monoMs(), cutOffAfterMs),
      waitMs: options.leaderWaitMs,
    });
    this.clock = options.enableFaultInjection ? NodeClock.fromEnvironment() : new NodeClock();
    this.diskTrouble = new DiskTrouble({
      retryFirstMs: 500,
      retryMaxMs: 2_000,
      probe: () => probeDisk(options.dataDir, options.diskReserveBytes, storageOptions.diskFaults),
      reopen: () => this.reopenStorage(),
      log,
    });
    this.diskWatch = new DiskWatch({
      dataDir: options.dataDir,
      diskStallMs: options.diskStallMs,
      diskReserveBytes: options.diskReserveBytes,
      writeWaitingMs: () => this.driver.writeWaitingMs(performance.now()),
      quiet: () => this.diskTrouble.active || this.stopping,
      onFailure: (error) => this.onStorageFailure(error),
    });
    this.metrics = new NodeMetrics(this);
    this.transport = new PeerTransport({
      self: () => ({ id: this.id, address: this.address, founders: this.founders }),
      frameBytesMax: options.peerFrameBytesMax,
      sendBufferBytesMax: options.peerSendBufferBytesMax,
      faults: this.faults,
      keys: security.clusterKeys,
      tls: security.peerTls,
      inboundLinksMax: PEER_LINKS_MAX,
      handshakeTimeoutMs: PEER_HANDSHAKE_MS,
      claimConflict: (identity) => this.claimConflict(identity),
      onRefused: (reason) => {
        this.metrics.refused.inc({ what: 'peer_link' });
        this.refusalLog.warn(reason);
      },
      onFrame: (from, frame) => this.onPeerFrame(from, frame),
      isCongested: () => this.driver.backlog > options.inputBacklogMax,
      onPeer: (identity) => this.onPeer(identity),
      onLinkDown: (peer) => {
        this.forwarder.onLinkDown(peer);
        this.peerClocks.forget(peer);
        this.driver.submit((raft) => raft.leaderUnreachable(peer));
        this.snapshotSender.abandon(peer);
        this.snapshotReceiver.forget(peer);
      },
    });
    this.snapshotSender = new SnapshotSender({
      limits: DEFAULT_SNAPSHOT_STREAM_LIMITS,
      send: (to, frame) => this.transport.send(to, frame),
    });
    this.snapshotReceiver = new SnapshotReceiver({
      limits: DEFAULT_SNAPSHOT_STREAM_LIMITS,
      ack: (to, frame) => this.transport.send(to, frame),
      deliver: (from, message) => {
        if (message.from === from) this.driver.submit((raft) => raft.step(message));
      },
    });
    this.membership = new MembershipService({
      id,
      address,
      prng: new Prng(randomBytes(4).readUInt32LE(0)),
      autopilot: autopilotConfig(options),
      now: () => Date.now(),
      heardAgoMs: (peer) => this.peerActivity.heardAgoMs(peer, this.clock.monoMs()),
      send: (to, message) => {
        this.transport.send(to, { t: 'gossip', message });
      },
      connect: (peerAddress) => this.transport.connect(peerAddress),
      log: this.log,
    });
    this.snapshots = new LocalSnapshots({
      entriesBetween: options.snapshotEntries,
      bytesBetween: options.snapshotBytes,
      submit: (input) => this.driver.submit(input),
      appliedIndex: () => this.appliedIndex,
      encodeState: () => this.machine.snapshotEncoding(),
      save: (snapshot) => this.storage.saveSnapshot(snapshot),
      onSaveFailed: (error) => (error instanceof StorageWriteError ? this.onStorageFailure(error) : this.fatal(error)),
      log,
    });
    this.leaderDuties = new LeaderDuties({
      id,
      submit: (input) => this.driver.submit(input),
      membership: this.membership,
      log,
      stabilizationMs: options.stabilizationMs,
      catchUpLagEntriesMax: DEFAULT_AUTOPILOT.catchUpLagEntriesMax,
    });
    this.forwarder = new Forwarder({
      send: (to, frame) => this.transport.send(to, frame),
      inFlightMax: options.forwardsInFlightMax,
      timeoutMs: options.requestTimeoutMs,
    });
    this.queueService = new QueueService({
      submit: (input) => this.driver.submit(input),
      machine: this.machine,
      clusterWallMs: () => this.peerClocks.clusterWallMs(this.clock.wallMs(), this.clock.monoMs()),
      monoMs: () => this.clock.monoMs(),
      proposalTimeoutMs: options.requestTimeoutMs,
      pendingProposalsMax: options.pendingProposalsMax,
      memoryBudgetBytes: options.memoryBudgetBytes,
    });
    const guards = createHttpGuards(options, security, log.child({ audit: true }), (what) => this.metrics.refused.inc({ what }));
    this.entryCommands = new EntryCommands({
      machine: this.machine,
      onApplied: (command) => this.queueService.onApplied(command),
      onRejected: (reason, detail) => {
        this.metrics.entriesRejected.inc({ reason });
        const what = reason === 'decode' ? 'an entry in the log does not decode into commands' : 'a command in the log failed to apply';
        this.log.error({ err: detail.error, index: detail.index, type: detail.type }, `${what}; it was skipped on every replica`);
      },
    });
    const api = new HttpApi(this, options, guards, log);
    this.clientSockets = new ClientSockets(this, options, guards.access, log);
    this.httpServer = api.createServer(
      new Map<string, WebSocketEndpoint>([[PEER_SOCKET_PATH, this.transport], [CLIENT_SOCKET_PATH, this.clientSockets]]),
    );
  }

  static async start(options: NodeOptions, log: Logger): Promise<QuorumNode> {
    checkExposure(options);
    const security = loadNodeSecurity(options);
    const powerCut = options.testPowerLoss ? new PowerCut(options.dataDir) : undefined;
    const storageOptions: NodeStorageOptions = {
      failpoints: Failpoints.fromEnvironment(process.env, options.enableFaultInjection),
      powerCut,
      diskFaults: options.enableFaultInjection ? new DiskFaults() : undefined,
    };
    const opened = await openWhenWritable(() => openNodeStorage(options.dataDir, storageOptions), log);
    if (powerCut !== undefined) process.on('SIGUSR2', () => powerCut.cut());
    const address = `${options.advertiseHost}:${options.port}`;
    const node = new QuorumNode(opened.id, address, options, opened.storage, log.child({ node: opened.id }), storageOptions, security);
    await node.open(opened);
    return node;
  }

  /** Present only with --enable-fault-injection. */
  get faultControls(): FaultControls | undefined {
    const { diskFaults: disk, failpoints } = this.storageOptions;
    const network = this.faults;
    if (network === undefined || disk === undefined || failpoints === undefined) return undefined;
    return { network, disk, clock: this.clock, failpoints };
  }

  private async open(opened: OpenedStorage): Promise<void> {
    await this.adopt(opened);
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(this.options.port, this.options.host, () => resolve());
    });
    for (const seed of this.options.seeds) this.transport.connect(seed);
    this.timers.push(setInterval(() => this.driver.submit((raft) => raft.tick()), this.options.tickMs));
    this.timers.push(setInterval(() => this.onHousekeeping(), this.options.tickMs));
    this.timers.push(setInterval(() => this.membership.tick(), this.options.gossipTickMs));
    this.timers.push(setInterval(() => this.runAutopilot(), this.options.autopilotIntervalMs));
    this.timers.push(setInterval(() => void this.diskWatch.checkFreeSpace(), FREE_SPACE_CHECK_MS));
    this.log.info({ address: this.address, dataDir: this.options.dataDir, snapshotIndex: this.snapshots.snapshotIndex, lastIndex: this.driver.core.status().lastIndex }, 'node started');
  }

  /** Takes what storage holds as this node's state: at start, and again after disk trouble. */
  private async adopt({ storage, persisted, damagedSnapshots, findings }: OpenedStorage): Promise<void> {
    this.storage = storage;
    if (persisted.recovery !== undefined) this.log.warn({ findings, lost: persisted.recovery }, 'recovering: this node lost data it had acknowledged; it will not vote until repaired from the leader');
    else if (findings.length > 0) this.log.warn({ findings }, 'storage checked and repaired at start');
    this.damagedAtStart = damagedSnapshots.length;
    if (this.damagedAtStart > 0) {
      this.log.warn({ damaged: damagedSnapshots, using: persisted.snapshot?.meta.index ?? 0 }, 'damaged snapshots skipped: rebuilt from the previous snapshot and the log');
    }
    // The queues are rebuilt from the snapshot and the committed log, as at any start.
    this.machine.restore(persisted.snapshot?.data ?? EMPTY_QUEUES);
    this.appliedIndex = persisted.snapshot?.meta.index ?? 0;
    this.snapshots.reset(this.appliedIndex);
    this.leaderDuties.reset();
    const foundersBytes = await this.storage.getMeta('founders');
    this.founders = foundersBytes === undefined ? null : (decode(foundersBytes) as NodeId[]);
    this.driver = this.createDriver(persisted);
  }

  // ------------------------------------------------------------ disk trouble

  /**
   * The disk refused a write. What the core holds in memory may now be ahead of the disk, so the
   * core is dropped, callers hear that the outcome is unknown, and peers see this node's links
   * close (a leader's followers elect another at once). The node keeps serving /health and
   * /metrics and rejoins from disk once it takes writes again (see `DiskTrouble`).
   */
  private onStorageFailure(error: StorageWriteError): void {
    if (this.stopping || this.diskTrouble.active) return;
    this.driver.stop();
    this.diskTrouble.begin(error);
    const refusal = this.diskRefusal();
    this.queueService.failAll(refusal);
    this.readBarrier.failAll();
    this.onSoftState({ role: 'follower', leader: '' });
    this.transport.dropInbound();
    this.clientSockets.closeAll(refusal.message);
  }

  unserviceable(): string | undefined {
    return this.diskTrouble.active ? this.diskRefusal().message : undefined;
  }

  private diskRefusal(): RequestError {
    const trouble = this.diskTrouble.view();
    return new RequestError('UNAVAILABLE', `this node cannot write to its disk (${trouble?.reason ?? 'unknown'}); use another node`, 1000);
  }

  private async reopenStorage(): Promise<void> {
    if (this.stopping) throw new StorageWriteError('reopening storage', new Error('the node is stopping'));
    await this.driver.idle();
    await this.storage.close().catch(() => undefined);
    // A store LevelDB itself found corrupt would fail the same way again: it is rebuilt from the leader.
    const discardStore = this.diskTrouble.view()?.corruption === true;
    const opened = await openNodeStorage(this.options.dataDir, { ...this.storageOptions, discardStore });
    if (opened.id !== this.id) {
      await opened.storage.close();
      this.fatal(new Error(`the data directory now belongs to node ${opened.id}, not ${this.id}: it was replaced while the disk failed`));
      return;
    }
    await this.adopt(opened);
  }

  private createDriver(persisted: PersistedState): RaftDriver {
    const raft = this.createRaft(persisted);
    return new RaftDriver(raft, this.storage, withFailpoints(this.storageOptions.failpoints, {
      send: (message) => this.sendRaft(message),
      flush: flushCoalescedWrites,
      apply: (entry) => this.apply(entry),
      installSnapshot: (snapshot) => this.installSnapshot(snapshot),
      onReadState: (read) => this.readBarrier.onReadState(read.context, read.index, this.appliedIndex),
      onReadFailure: (failure) => this.readBarrier.onReadFailure(failure.context),
      onSoftState: (state) => this.onSoftState(state),
      onWritten: (milliseconds) => this.metrics.logWriteSeconds.observe(milliseconds / 1000),
      onStorageFailure: (error) => this.onStorageFailure(error),
      onFatal: (error) => this.fatal(error),
    }));
  }

  private createRaft(persisted: PersistedState): Raft {
    const config = raftConfig(this.id, { electionTicks: this.options.electionTicks, heartbeatTicks: 1 });
    return new Raft(config, persisted, new Prng(randomBytes(4).readUInt32LE(0)));
  }

  get pushSubscriptions(): number {
    return this.clientSockets.subscriptionCount;
  }

  // ------------------------------------------------------------ requests

  async write(request: WriteRequest): Promise<unknown> {
    if (this.stopping) throw new RequestError('SHUTTING_DOWN', 'this node is shutting down', 100);
    if (this.diskTrouble.active) throw this.diskRefusal();
    const leader = await this.leaderWait.leader();
    if (leader === this.id) return this.queueService.execute(request);
    return this.forwarder.forward(leader, request);
  }

  /** Resolves once this node's state reflects every write committed before the call (ReadIndex). */
  async linearizable(): Promise<void> {
    if (this.diskTrouble.active) throw this.diskRefusal();
    await this.leaderWait.leader();
    const { context, done } = this.readBarrier.begin(this.options.requestTimeoutMs);
    this.driver.submit((raft) => raft.readIndex(context));
    return done;
  }

  cluster(): ClusterView {
    return clusterView({
      self: { id: this.id, address: this.address },
      status: this.driver.core.status(),
      appliedIndex: this.appliedIndex,
      peers: this.transport.peers(),
      gossip: this.membership.members(),
      isConnected: (peer) => this.transport.isConnected(peer),
    });
  }

  peers(): readonly PeerIdentity[] {
    return this.transport.peers();
  }

  health(): { ok: boolean; reason: string } {
    const status = this.driver.core.status();
    if (this.stopping) return { ok: false, reason: 'shutting down' };
    const disk = this.diskTrouble.view();
    if (disk !== undefined) return { ok: false, reason: `disk: ${disk.message}; not acknowledging since ${new Date(disk.since).toISOString()}` };
    if (status.recovering) return { ok: false, reason: 'recovering: repairing data lost on disk from the leader' };
    if (status.leader === '') return { ok: false, reason: 'no known leader' };
    if (status.commit - this.appliedIndex > this.options.healthLagEntriesMax) return { ok: false, reason: 'catching up' };
    return { ok: true, reason: status.role === 'leader' ? 'leader' : 'following' };
  }

  // ------------------------------------------------------------ the core's outputs

  private apply(entry: Entry): void {
    this.appliedIndex = entry.index;
    if (entry.kind === 'normal') this.queueService.onEntryApplied(entry.index, entry.term, this.entryCommands.apply(entry));
    this.readBarrier.onApplied(this.appliedIndex);
    this.snapshots.onApplied(this.appliedIndex, entry.data.length);
  }

  /** A snapshot from the leader replaces the whole queue state (this node was behind its log). */
  private installSnapshot(snapshot: Snapshot): void {
    this.machine.restore(snapshot.data);
    this.appliedIndex = snapshot.meta.index;
    this.snapshots.onInstalled(snapshot);
    this.readBarrier.onApplied(this.appliedIndex);
    this.log.info({ index: snapshot.meta.index, bytes: snapshot.data.length }, 'installed a snapshot from the leader');
  }

  private onSoftState(state: SoftState): void {
    const before = this.softState;
    this.softState = state;
    const term = this.driver.core.status().term;
    // One clear line per leadership change; the steps of an election are detail.
    if (state.role === 'leader' && before.role !== 'leader') this.log.info({ term }, 'became leader');
    else if (state.role === 'follower' && state.leader !== '' && state.leader !== before.leader) {
      this.log.info({ leader: state.leader, term }, 'following');
    } else this.log.debug({ role: state.role, leader: state.leader || null, term }, 'role changed');
    // Requests forwarded to a leader that is no longer ours may never be answered (it may be paused
    // or cut off): their callers hear now that the outcome is unknown, and retry on the new leader.
    if (before.leader !== '' && before.leader !== state.leader) this.forwarder.onLinkDown(before.leader);
    if (before.role === 'leader' && state.role !== 'leader') this.queueService.onLeadershipLost(2 * this.options.tickMs * this.options.electionTicks);
    this.leaderWait.onLeaderChange();
  }

  private sendRaft(message: Message): void {
    if (message.type === 'snapshot') this.snapshotSender.send(message);
    else this.transport.send(message.to, { t: 'raft', message, clock: this.clock.wallMs() });
  }

  private onPeerFrame(from: NodeId, frame: PeerFrame): void {
    this.peerActivity.heard(from, this.clock.monoMs());
    switch (frame.t) {
      case 'raft':
        if (frame.message.from !== from) return;
        if (frame.clock !== undefined) this.peerClocks.heard(from, frame.clock, this.clock.monoMs());
        this.driver.submit((raft) => raft.step(frame.message));
        return;
      case 'forward':
        this.onForward(from, frame.requestId, frame.request as unknown as Record<string, unknown>);
        return;
      case 'forwardReply':
        this.forwarder.onReply(from, frame);
        return;
      case 'snapshotChunk':
        this.snapshotReceiver.onChunk(from, frame);
        return;
      case 'snapshotAck':
        this.snapshotSender.onAck(from, frame);
        return;
      case 'gossip':
        if (frame.message.from === from) this.membership.onMessage(frame.message);
        return;
      case 'hello':
      case 'helloAck':
      case 'auth':
        return;
    }
  }

  /** A follower's client request, run here as leader once it passes the same checks as a client's. */
  private onForward(from: NodeId, requestId: number, raw: Record<string, unknown>): void {
    const answer = (outcome: Promise<unknown>) =>
      outcome
        .then((result) => this.transport.send(from, { t: 'forwardReply', requestId, ok: true, result }))
        .catch((error: unknown) => this.transport.send(from, { t: 'forwardReply', requestId, ok: false, error: toErrorBody(error) }));
    if (this.diskTrouble.active) {
      void answer(Promise.reject(this.diskRefusal()));
      return;
    }
    let request: WriteRequest;
    try {
      request = forwardedRequest(raw);
    } catch (error) {
      void answer(Promise.reject(error));
      return;
    }
    void answer(this.queueService.execute(request));
  }

  /** A peer link claiming an id that gossip knows alive elsewhere is not that member. */
  private claimConflict(identity: PeerIdentity): string | undefined {
    const member = this.membership.members().find((candidate) => candidate.id === identity.id);
    if (member === undefined || member.state !== 'alive' || member.address === identity.address) return undefined;
    return `a link from ${identity.address} claims id ${identity.id}, which gossip knows alive at ${member.address}`;
  }

  private onPeer(identity: PeerIdentity): void {
    this.log.debug({ peer: identity.id, address: identity.address }, 'peer identified');
    this.membership.addPeer(identity.id, identity.address);
    this.maybeBootstrap();
  }

  private maybeBootstrap(): void {
    // A recovering node was a member: its log is empty because it was discarded, not because it is new.
    const status = this.driver.core.status();
    if (this.founders !== null || status.lastIndex > 0 || status.recovering) return;
    const decision = decideBootstrap(this.id, this.options.bootstrapExpect, this.transport.peers());
    if (decision.kind === 'wait') {
      this.log.debug({ reason: decision.reason }, 'not bootstrapping yet');
      return;
    }
    const founders = decision.founders;
    this.driver.submit(async (raft) => {
      // Only a node that is still blank founds: one that already received the log has joined.
      if (raft.status().lastIndex > 0 || this.founders !== null) return undefined;
      const state = bootstrapState({ voters: [...founders], learners: [] });
      await this.storage.putMeta('founders', encode(founders));
      await this.storage.save({ ...EMPTY_READY, hardState: state.hardState, entries: state.entries, mustSync: true });
      this.founders = founders;
      this.log.info({ founders }, 'bootstrapped a new cluster');
      return this.createRaft(await this.storage.load());
    });
  }

  private onHousekeeping(): void {
    this.diskWatch.checkStall();
    this.driver.repeatHeartbeats(performance.now(), 2 * this.options.tickMs, 2 * this.options.tickMs * this.options.electionTicks);
    this.peerClocks.refresh(this.id, this.driver.core.voters());
    if (this.softState.role === 'leader') this.queueService.expireIfDue();
    if (this.founders === null) this.learnFounders();
  }

  /** A node that joined by replication announces the founders its log starts with. */
  private learnFounders(): void {
    const first = this.driver.core.entryAt(1);
    if (first?.kind === 'config' && first.membership !== undefined) this.founders = first.membership.voters;
    else this.maybeBootstrap();
  }

  private runAutopilot(): void {
    if (this.softState.role !== 'leader' || this.stopping) return;
    this.leaderDuties.run(Date.now(), this.driver.core.status());
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * Graceful shutdown: new requests are refused with a retryable code, a leader hands leadership
   * to the most caught-up voter first, and requests already in flight get a bounded time to finish.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.handOverLeadership();
    await this.settleInFlight(this.options.tickMs * this.options.electionTicks * 2);
    await this.membership.leave(1000, this.options.gossipTickMs);
    await this.close();
  }

  /** Stops at once, without handing over: what a crash-only shutdown (fatal error) does. */
  private async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.diskTrouble.stop();
    // An injected stall would hold the write under way, and with it the shutdown, for good.
    this.storageOptions.diskFaults?.resume();
    this.clientSockets.close();
    this.snapshotSender.close();
    this.transport.close();
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    await this.driver.idle();
    this.driver.stop();
    this.queueService.failAll(new RequestError('SHUTTING_DOWN', 'the node stopped', 100));
    this.readBarrier.failAll();
    await this.storage.close();
    this.log.info('node stopped');
  }

  private async handOverLeadership(): Promise<void> {
    const status = this.driver.core.status();
    if (status.role !== 'leader') return;
    const target = status.progress
      .filter((progress) => status.membership.voters.includes(progress.id) && this.transport.isConnected(progress.id))
      .sort((a, b) => b.match - a.match)[0];
    if (target === undefined) return;
    this.log.info({ to: target.id }, 'handing over leadership before shutting down');
    this.driver.submit((raft) => {
      raft.transferLeadership(target.id);
    });
    await pollUntil(() => this.softState.role !== 'leader', this.options.tickMs * this.options.electionTicks * 2);
  }

  private async settleInFlight(timeoutMs: number): Promise<void> {
    await pollUntil(() => this.queueService.pendingCount === 0 && this.forwarder.size === 0, timeoutMs);
  }

  private fatal(error: unknown): void {
    this.log.fatal({ err: error }, 'storage or core failure: stopping so that a restart recovers from disk');
    process.exitCode = 1;
    this.stopping = true;
    void this.close().finally(() => process.exit(1));
  }
}
