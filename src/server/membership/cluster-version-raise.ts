import type { Logger } from 'pino';
import { RELEASE_CLUSTER_VERSION, UNVERSIONED_CLUSTER_VERSION } from '../../queue/index.ts';
import type { Membership, NodeId, RaftStatus } from '../../raft/index.ts';
import type { PeerIdentity } from '../../transport/index.ts';

export interface ClusterVersionRaiseOptions {
  readonly id: NodeId;
  /** The cluster version as this node's replica has applied it. */
  readonly running: () => number;
  /** The peers this node has heard at hello, with what each said of its release (the latest it said). */
  readonly peers: () => readonly PeerIdentity[];
  /** Whether this node has a live link to `peer` now: a release said on a link since closed may have changed. */
  readonly isConnected: (peer: NodeId) => boolean;
  /** Proposes the raise through the log; resolves with the version the cluster then runs. */
  readonly raise: (version: number) => Promise<number>;
  readonly log: Logger;
}

/**
 * The leader's part of the version gate (see `cluster-version.ts`): it raises the cluster version to
 * the highest every member of the configuration supports, voters and learners alike (both apply the
 * log), as each said at hello on the link this node has to it now; a member without a live link
 * holds the raise back. It also tells which members hold a version back, and whether a node may
 * join: not one whose release is below the version the cluster runs or is about to run, nor one
 * whose release is not known yet, since it would stop at the first newer command.
 */
export class ClusterVersionRaise {
  /** The version of a raise proposed and not yet answered: joiners are held to it already. */
  private raising: number | undefined;

  constructor(private readonly options: ClusterVersionRaiseOptions) {}

  /** The highest cluster version `node` supports, or undefined when this node has no live link to it. */
  supported(node: NodeId): number | undefined {
    if (node === this.options.id) return RELEASE_CLUSTER_VERSION;
    if (!this.options.isConnected(node)) return undefined;
    const identity = this.options.peers().find((peer) => peer.id === node);
    if (identity === undefined) return undefined;
    return identity.release?.clusterVersionMax ?? UNVERSIONED_CLUSTER_VERSION;
  }

  /** Members of `membership` that do not (or are not known to) support `version`, each with why. */
  membersBelow(version: number, membership: Membership): string[] {
    const below: string[] = [];
    for (const node of [...membership.voters, ...membership.learners]) {
      const supported = this.supported(node);
      if (supported === undefined) below.push(`${node} (not connected)`);
      else if (supported < version) below.push(`${node} (supports ${supported})`);
    }
    return below;
  }

  /**
   * Why `node` may not join the configuration now, or undefined when it may. It is held to the
   * version the cluster runs, a raise under way, and the version every present member already
   * supports (the raise that comes next): a joiner below any of them would meet commands it cannot
   * apply, or hold back a raise the rest are ready for.
   */
  joinRefusal(node: NodeId, status: RaftStatus): string | undefined {
    const running = this.options.running();
    const floor = Math.max(running, this.raising ?? running, this.targetOf(status.membership) ?? running);
    if (floor <= UNVERSIONED_CLUSTER_VERSION) return undefined;
    const supported = this.supported(node);
    if (supported === undefined) return 'this node has not heard its release yet (no link to it): asked again next round';
    if (supported >= floor) return undefined;
    return `its release supports cluster version ${supported}, and the cluster runs ${running}${floor > running ? ` (every member supports ${floor})` : ''}: upgrade it first`;
  }

  /** Each autopilot round, on the leader. */
  run(status: RaftStatus): void {
    if (status.role !== 'leader' || this.raising !== undefined) return;
    const running = this.options.running();
    const target = this.targetOf(status.membership);
    if (target === undefined || target <= running) return;
    this.raising = target;
    this.options.log.info({ from: running, to: target }, 'every member supports a newer cluster version: raising it');
    this.options
      .raise(target)
      .then(
        (version) => this.options.log.info({ version }, 'cluster version raised'),
        (error: unknown) => this.options.log.debug({ err: error }, 'cluster version raise not committed; it is tried again'),
      )
      .finally(() => {
        this.raising = undefined;
      });
  }

  /** The highest version every member supports (this release's at most), or undefined while one is not known. */
  private targetOf(membership: Membership): number | undefined {
    let target = RELEASE_CLUSTER_VERSION;
    for (const node of [...membership.voters, ...membership.learners]) {
      const supported = this.supported(node);
      if (supported === undefined) return undefined;
      target = Math.min(target, supported);
    }
    return target;
  }
}
