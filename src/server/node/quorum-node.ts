import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { QueueStateMachine } from '../../queue/index.ts';
import { type NodeId, type PersistedState, Raft, raftConfig, type SoftState } from '../../raft/index.ts';
import { CLIENT_SOCKET_PATH, PEER_SOCKET_PATH, Prng, RequestError } from '../../shared/index.ts';
import {
  DiskFaults,
  Failpoints,
  type NodeStorageOptions,
  type OpenedStorage,
  openNodeStorage,
  PowerCut,
  probeDisk,
  type RaftStorage,
  StorageWriteError,
} from '../../storage/index.ts';
import { FaultFilter, flushCoalescedWrites, type PeerIdentity, PeerTransport } from '../../transport/index.ts';
import { createHttpGuards, RateLimitedLog } from '../access/index.ts';
import { type BackupStream, ClientSockets, type FaultControls, HttpApi, type WebSocketEndpoint } from '../api/index.ts';
import { ClusterClock, NodeClock } from '../clocks/index.ts';
import {
  autopilotConfig,
  ClusterFounding,
  ClusterVersionRaise,
  type ClusterView,
  clusterView,
  DEFAULT_AUTOPILOT,
  LeaderDuties,
  MembershipService,
  PeerActivity,
} from '../membership/index.ts';
import {
  LocalSnapshots,
  QueueReplica,
  RaftDriver,
  type RaftDriverOptions,
  StateBackups,
  UnsupportedCommandError,
  withFailpoints,
} from '../replication/index.ts';
import { RETRY_AFTER_MS, RequestPath } from '../requests/index.ts';
import { ConfiguredQueues } from './configured-queues.ts';
import { DiskTrouble, openWhenWritable } from './disk-trouble.ts';
import { DiskWatch } from './disk-watch.ts';
import { forceNewCluster } from './forced-new-cluster.ts';
import { NodeMetrics } from './node-metrics.ts';
import type { NodeOptions } from './node-options.ts';
import { checkExposure, loadNodeSecurity, type NodeSecurity } from './node-security.ts';
import { PeerExchange } from './peer-exchange.ts';
import { pollUntil } from './poll-until.ts';
import { THIS_RELEASE } from './this-release.ts';

/** Peer links one node accepts at once: far above any cluster's size, far below what would hurt. */
const PEER_LINKS_MAX = 256;
/** A peer link must finish its handshake within this: a stalled one holds no socket for long. */
const PEER_HANDSHAKE_MS = 5_000;
/** How often free space is checked against the reserve. */
const FREE_SPACE_CHECK_MS = 1000;
/** After the disk refused a write, the first wait before trying it again, and the longest. */
const DISK_RETRY_FIRST_MS = 500;
const DISK_RETRY_MAX_MS = 2_000;
/** After the config file's queues failed to apply, the first wait before trying again, and the longest. */
const CONFIGURED_QUEUES_RETRY_FIRST_MS = 500;
const CONFIGURED_QUEUES_RETRY_MAX_MS = 10_000;
/** How long a departing node keeps telling the others it leaves. */
const LEAVE_ANNOUNCE_MS = 1000;
/** The exit status of a node that met a log command its release does not know (sysexits' EX_CONFIG). */
export const EXIT_UNSUPPORTED_COMMAND = 78;

/**
 * One quorumq peer: storage, the Raft core and its driver, the queue replica, peer links, and the
 * HTTP and WebSocket endpoints, all on one port. Every node runs this same program.
 *
 * This class builds the parts, connects them, and runs the node's life: start, the timers, disk
 * trouble, shutdown. It handles no request and no frame itself: a client's request goes from the
 * APIs (`HttpApi`, `ClientSockets`) to the `RequestPath`; a peer's frame from the `PeerTransport`
 * to the `PeerExchange`; a committed entry from the `RaftDriver` to the `QueueReplica`.
 */
export class QuorumNode {
  readonly metrics: NodeMetrics;
  readonly faults: FaultFilter | undefined;
  readonly diskTrouble: DiskTrouble;
  readonly clock: ClusterClock;
  readonly snapshots: LocalSnapshots;
  readonly machine = new QueueStateMachine();
  private readonly replica: QueueReplica;
  private readonly requests: RequestPath;
  private readonly driver: RaftDriver;
  private readonly transport: PeerTransport;
  private readonly exchange: PeerExchange;
  private readonly membership: MembershipService;
  private readonly leaderDuties: LeaderDuties;
  private readonly versionRaise: ClusterVersionRaise;
  private readonly founding: ClusterFounding;
  private readonly backups: StateBackups;
  private readonly peerActivity = new PeerActivity();
  private readonly diskWatch: DiskWatch;
  private readonly configuredQueues: ConfiguredQueues;
  private readonly clientSockets: ClientSockets;
  private readonly httpServer: Server;
  /** Refused peer links: logged, at a rate no stranger can raise. */
  private readonly refusalLog: RateLimitedLog;
  /** Replaced when storage is reopened after disk trouble. */
  private storage: RaftStorage;
  private softState: SoftState = { role: 'follower', leader: '' };
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private damagedAtStart = 0;

  private constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly options: NodeOptions,
    opened: OpenedStorage,
    private readonly log: Logger,
    private readonly storageOptions: NodeStorageOptions,
    security: NodeSecurity,
  ) {
    this.storage = opened.storage;
    this.refusalLog = new RateLimitedLog(log);
    this.faults = options.enableFaultInjection ? new FaultFilter() : undefined;
    this.clock = new ClusterClock(options.enableFaultInjection ? NodeClock.fromEnvironment() : new NodeClock());
    this.diskTrouble = new DiskTrouble({
      retryFirstMs: DISK_RETRY_FIRST_MS,
      retryMaxMs: DISK_RETRY_MAX_MS,
      probe: () => probeDisk(options.dataDir, options.diskReserveBytes, storageOptions.diskFaults),
      reopen: () => this.reopenStorage(),
      log,
    });
    this.metrics = new NodeMetrics(this);
    this.transport = new PeerTransport({
      self: () => ({ id: this.id, address: this.address, founders: this.founding.founders, holdsState: this.holdsClusterState(), release: THIS_RELEASE }),
      frameBytesMax: options.peerFrameBytesMax,
      sendBufferBytesMax: options.peerSendBufferBytesMax,
      faults: this.faults,
      keys: security.clusterKeys,
      tls: security.peerTls,
      inboundLinksMax: PEER_LINKS_MAX,
      handshakeTimeoutMs: PEER_HANDSHAKE_MS,
      claimConflict: (identity) => this.membership.claimConflict(identity),
      onRefused: (reason) => this.onPeerRefused(reason),
      onFrame: (from, frame) => this.exchange.onFrame(from, frame),
      isCongested: () => this.driver.backlog > options.inputBacklogMax,
      onPeer: (identity) => this.onPeer(identity),
      onLinkDown: (peer) => this.exchange.onLinkDown(peer),
    });
    this.driver = new RaftDriver(this.newCore(opened.persisted), opened.storage, withFailpoints(storageOptions.failpoints, this.driverOptions()));
    this.membership = new MembershipService({
      id,
      address,
      prng: new Prng(randomBytes(4).readUInt32LE(0)),
      autopilot: autopilotConfig(options),
      now: () => Date.now(),
      heardAgoMs: (peer) => this.peerActivity.heardAgoMs(peer, this.clock.monoMs()),
      send: (to, message) => this.transport.send(to, { t: 'gossip', message }),
      connect: (peerAddress) => this.transport.connect(peerAddress),
      log,
    });
    this.requests = new RequestPath({
      id,
      machine: this.machine,
      core: this.driver,
      peers: this.transport,
      clocks: this.clock,
      disk: this.diskTrouble,
      cutOff: () => this.peerActivity.hearsNoPeer(this.clock.monoMs(), this.cutOffAfterMs()),
      cluster: () => this.cluster(),
      requestTimeoutMs: options.requestTimeoutMs,
      leaderWaitMs: options.leaderWaitMs,
      forwardsInFlightMax: options.forwardsInFlightMax,
      pendingProposalsMax: options.pendingProposalsMax,
      memoryBudgetBytes: options.memoryBudgetBytes,
      membersBelow: (version) => this.versionRaise.membersBelow(version, this.driver.core.status().membership),
    });
    this.versionRaise = new ClusterVersionRaise({
      id,
      running: () => this.machine.clusterVersion,
      peers: () => this.transport.peers(),
      isConnected: (peer) => this.transport.isConnected(peer),
      raise: (version) => this.requests.raiseClusterVersion(version),
      log,
    });
    this.snapshots = new LocalSnapshots({
      entriesBetween: options.snapshotEntries,
      bytesBetween: options.snapshotBytes,
      submit: (input) => this.driver.submit(input),
      appliedIndex: () => this.replica.appliedIndex,
      encodeState: () => this.machine.snapshotEncoding(),
      save: (snapshot) => this.storage.saveSnapshot(snapshot),
      onSaveFailed: (error) => this.onSnapshotSaveFailed(error),
      log,
    });
    this.backups = new StateBackups({
      submit: (input) => this.driver.submit(input),
      appliedIndex: () => this.replica.appliedIndex,
      encodeState: () => this.machine.snapshotEncoding(),
      now: () => Date.now(),
    });
    this.replica = new QueueReplica({
      machine: this.machine,
      listener: this.requests,
      snapshots: this.snapshots,
      onRejected: (reason) => this.metrics.entriesRejected.inc({ reason }),
      log,
    });
    this.exchange = new PeerExchange({
      transport: this.transport,
      core: this.driver,
      requests: this.requests,
      membership: this.membership,
      clock: this.clock,
      activity: this.peerActivity,
    });
    this.leaderDuties = new LeaderDuties({
      id,
      submit: (input) => this.driver.submit(input),
      membership: this.membership,
      log,
      stabilizationMs: options.stabilizationMs,
      catchUpLagEntriesMax: DEFAULT_AUTOPILOT.catchUpLagEntriesMax,
      joinRefusal: (node, status) => this.versionRaise.joinRefusal(node, status),
    });
    this.founding = new ClusterFounding({
      id,
      bootstrapExpect: options.bootstrapExpect,
      driver: this.driver,
      peers: () => this.transport.peers(),
      newCore: (persisted) => this.newCore(persisted),
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
    this.configuredQueues = new ConfiguredQueues({
      queues: options.queues,
      write: (request) => this.requests.write(request),
      retryFirstMs: CONFIGURED_QUEUES_RETRY_FIRST_MS,
      retryMaxMs: CONFIGURED_QUEUES_RETRY_MAX_MS,
      log,
    });
    const guards = createHttpGuards(options, security, log.child({ audit: true }), (what) => this.metrics.refused.inc({ what }));
    this.clientSockets = new ClientSockets({
      requests: this.requests,
      machine: this.machine,
      metrics: this.metrics,
      access: guards.access,
      clientFrameBytesMax: options.clientFrameBytesMax,
      clientConnectionsMax: options.clientConnectionsMax,
      log,
    });
    const api = new HttpApi({
      requests: this.requests,
      node: this,
      metrics: this.metrics,
      faults: this.faultControls(),
      peers: this.transport,
      backups: { backup: (write) => this.backup(write) },
      guards,
      headersTimeoutMs: options.headersTimeoutMs,
      requestReceiveTimeoutMs: options.requestReceiveTimeoutMs,
      log,
    });
    this.httpServer = api.createServer(
      new Map<string, WebSocketEndpoint>([
        [PEER_SOCKET_PATH, this.transport],
        [CLIENT_SOCKET_PATH, this.clientSockets],
      ]),
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
    let opened = await openWhenWritable(() => openNodeStorage(options.dataDir, storageOptions), log);
    if (options.forceNewCluster) opened = await QuorumNode.forceNewCluster(opened, options, storageOptions, log);
    if (powerCut !== undefined) process.on('SIGUSR2', () => powerCut.cut());
    const address = `${options.advertiseHost}:${options.advertisePort}`;
    const node = new QuorumNode(opened.id, address, options, opened, log.child({ node: opened.id }), storageOptions, security);
    await node.open(opened);
    return node;
  }

  /** Rewrites the data directory as a new cluster of one (see `forceNewCluster`), then opens it again. */
  private static async forceNewCluster(opened: OpenedStorage, options: NodeOptions, storageOptions: NodeStorageOptions, log: Logger): Promise<OpenedStorage> {
    try {
      await forceNewCluster(opened, options.dataDir, log.child({ node: opened.id }));
    } finally {
      await opened.storage.close();
    }
    return openNodeStorage(options.dataDir, storageOptions);
  }

  // ------------------------------------------------------------ what the APIs and metrics read

  get damagedSnapshotsAtStart(): number {
    return this.damagedAtStart;
  }

  get snapshotStreams(): { completed: number; abandoned: number; rejected: number } {
    return this.exchange.snapshotStreams;
  }

  get pushSubscriptions(): number {
    return this.clientSockets.subscriptionCount;
  }

  cluster(): ClusterView {
    return clusterView({
      self: { id: this.id, address: this.address, founders: this.founding.founders },
      status: this.driver.core.status(),
      appliedIndex: this.replica.appliedIndex,
      peers: this.transport.peers(),
      gossip: this.membership.members(),
      isConnected: (peer) => this.transport.isConnected(peer),
      clusterVersion: this.machine.clusterVersion,
      release: THIS_RELEASE,
    });
  }

  /** A log or a snapshot, or a log lost and being repaired: this node was a member of some cluster (see `foundersConflict`). */
  private holdsClusterState(): boolean {
    const status = this.driver.core.status();
    return status.lastIndex > 0 || status.recovering;
  }

  health(): { ok: boolean; reason: string } {
    const status = this.driver.core.status();
    if (this.stopping) return { ok: false, reason: 'shutting down' };
    const disk = this.diskTrouble.view();
    if (disk !== undefined) return { ok: false, reason: `disk: ${disk.message}; not acknowledging since ${new Date(disk.since).toISOString()}` };
    if (status.recovering) return { ok: false, reason: 'recovering: repairing data lost on disk from the leader' };
    if (status.leader === '') return { ok: false, reason: 'no known leader' };
    if (status.commit - this.replica.appliedIndex > this.options.healthLagEntriesMax) return { ok: false, reason: 'catching up' };
    return { ok: true, reason: status.role === 'leader' ? 'leader' : 'following' };
  }

  /**
   * `GET /admin/backup`: a read barrier first (ReadIndex), so that the state is at least at the
   * commit index the cluster had when the backup was asked for, then the state at the index reached.
   */
  private async backup(write: (backup: BackupStream) => Promise<void>): Promise<void> {
    const barrierIndex = await this.requests.linearizable();
    await this.backups.run(write, barrierIndex);
  }

  /** Present only with --enable-fault-injection. */
  private faultControls(): FaultControls | undefined {
    const { diskFaults: disk, failpoints } = this.storageOptions;
    const network = this.faults;
    if (network === undefined || disk === undefined || failpoints === undefined) return undefined;
    return { network, disk, clock: this.clock.local, failpoints };
  }

  // ------------------------------------------------------------ start

  private async open(opened: OpenedStorage): Promise<void> {
    await this.rebuildFrom(opened);
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
    this.log.info(
      { address: this.address, dataDir: this.options.dataDir, snapshotIndex: this.snapshots.snapshotIndex, lastIndex: this.driver.core.status().lastIndex },
      'node started',
    );
  }

  /** Takes what storage holds as this node's state: at start, and again after disk trouble. */
  private async rebuildFrom({ storage, persisted, damagedSnapshots, findings }: OpenedStorage): Promise<void> {
    this.storage = storage;
    if (persisted.recovery !== undefined)
      this.log.warn(
        { findings, lost: persisted.recovery },
        'recovering: this node lost data it had acknowledged; it will not vote until repaired from the leader',
      );
    else if (findings.length > 0) this.log.warn({ findings }, 'storage checked and repaired at start');
    this.damagedAtStart = damagedSnapshots.length;
    if (this.damagedAtStart > 0) {
      this.log.warn(
        { damaged: damagedSnapshots, using: persisted.snapshot?.meta.index ?? 0 },
        'damaged snapshots skipped: rebuilt from the previous snapshot and the log',
      );
    }
    // The queues are rebuilt from the snapshot and the committed log, as at any start.
    this.replica.restore(persisted.snapshot);
    this.leaderDuties.reset();
    await this.founding.load(storage);
  }

  private driverOptions(): RaftDriverOptions {
    return {
      send: (message) => this.exchange.sendRaft(message),
      flush: flushCoalescedWrites,
      apply: (entry) => this.replica.apply(entry),
      installSnapshot: (snapshot) => this.replica.installSnapshot(snapshot),
      onReadState: (read) => this.requests.onReadState(read),
      onReadFailure: (failure) => this.requests.onReadFailure(failure),
      onSoftState: (state) => this.onSoftState(state),
      onWritten: (milliseconds) => this.metrics.logWriteSeconds.observe(milliseconds / 1000),
      onStorageFailure: (error) => this.onStorageFailure(error),
      onFatal: (error) => this.fatal(error),
    };
  }

  private newCore(persisted: PersistedState): Raft {
    const config = raftConfig(this.id, { electionTicks: this.options.electionTicks, heartbeatTicks: 1 });
    return new Raft(config, persisted, new Prng(randomBytes(4).readUInt32LE(0)));
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
    const refusal = this.diskTrouble.refusal();
    if (refusal !== undefined) this.requests.failAll(refusal);
    this.onSoftState({ role: 'follower', leader: '' });
    this.transport.dropInbound();
    this.clientSockets.closeAll(refusal?.message ?? 'the disk refused a write');
  }

  private onSnapshotSaveFailed(error: unknown): void {
    if (error instanceof StorageWriteError) this.onStorageFailure(error);
    else this.fatal(error);
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
    await this.rebuildFrom(opened);
    this.driver.restart(this.newCore(opened.persisted), opened.storage);
  }

  // ------------------------------------------------------------ the node's own reactions

  private onSoftState(state: SoftState): void {
    const before = this.softState;
    this.softState = state;
    const term = this.driver.core.status().term;
    // One clear line per leadership change; the steps of an election are detail.
    if (state.role === 'leader' && before.role !== 'leader') this.log.info({ term }, 'became leader');
    else if (state.role === 'follower' && state.leader !== '' && state.leader !== before.leader) {
      this.log.info({ leader: state.leader, term }, 'following');
    } else this.log.debug({ role: state.role, leader: state.leader || null, term }, 'role changed');
    if (state.leader !== '' && state.leader !== before.leader) this.metrics.leaderChanges.inc();
    this.requests.onSoftState(before, state, 2 * this.options.tickMs * this.options.electionTicks);
    if (state.leader !== '') this.configuredQueues.onLeaderKnown();
  }

  private onPeer(identity: PeerIdentity): void {
    this.log.debug({ peer: identity.id, address: identity.address }, 'peer identified');
    this.membership.addPeer(identity.id, identity.address);
    this.founding.onPeer();
  }

  private onPeerRefused(reason: string): void {
    this.metrics.refused.inc({ what: 'peer_link' });
    this.refusalLog.warn(reason);
  }

  /** Silence from every peer this long means cut off: well past a gossip probe round (10 gossip ticks) and an election. */
  private cutOffAfterMs(): number {
    return Math.max(3 * this.options.tickMs * this.options.electionTicks, 15 * this.options.gossipTickMs);
  }

  private onHousekeeping(): void {
    this.diskWatch.checkStall();
    this.driver.repeatHeartbeats(performance.now(), 2 * this.options.tickMs, 2 * this.options.tickMs * this.options.electionTicks);
    this.clock.refresh(this.id, this.driver.core.voters());
    if (this.softState.role === 'leader') this.requests.expireIfDue();
    this.founding.onHousekeeping();
  }

  private runAutopilot(): void {
    if (this.softState.role !== 'leader' || this.stopping) return;
    const status = this.driver.core.status();
    // The raise first: a joiner the same round is then held to the version being raised.
    this.versionRaise.run(status);
    this.leaderDuties.run(Date.now(), status);
  }

  // ------------------------------------------------------------ shutdown

  /**
   * Graceful shutdown: new requests are refused with a retryable code, a leader hands leadership
   * to the most caught-up voter first, and requests already in flight get a bounded time to finish.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.configuredQueues.stop();
    this.requests.stop();
    await this.handOverLeadership();
    await pollUntil(() => this.requests.inFlight === 0, this.options.tickMs * this.options.electionTicks * 2);
    await this.membership.leave(LEAVE_ANNOUNCE_MS, this.options.gossipTickMs);
    await this.close();
  }

  /** Stops at once, without handing over: what a crash-only shutdown (fatal error) does. */
  private async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.configuredQueues.stop();
    this.diskTrouble.stop();
    // An injected stall would hold the write under way, and with it the shutdown, for good.
    this.storageOptions.diskFaults?.resume();
    this.clientSockets.close();
    this.exchange.close();
    this.transport.close();
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    await this.driver.idle();
    this.driver.stop();
    this.requests.failAll(new RequestError('SHUTTING_DOWN', 'the node stopped', RETRY_AFTER_MS.goneHere));
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

  private fatal(error: unknown): void {
    // A command from a newer release stops the node for good (a restart meets it again): it says so, with its own exit status.
    const unsupported = error instanceof UnsupportedCommandError;
    if (unsupported) this.log.fatal({ index: error.index, type: error.commandType }, `stopped applying the log: ${error.message}`);
    else this.log.fatal({ err: error }, 'storage or core failure: stopping so that a restart recovers from disk');
    const status = unsupported ? EXIT_UNSUPPORTED_COMMAND : 1;
    process.exitCode = status;
    this.stopping = true;
    this.requests.stop();
    void this.close().finally(() => process.exit(status));
  }
}
