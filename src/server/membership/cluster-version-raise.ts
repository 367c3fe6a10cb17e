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
  /** Proposes the raise through the log; resolves with the version the cluster then runs. */
  readonly raise: (version: number) => Promise<number>;
  readonly log: Logger;
}

/**
 * The leader's part of the version gate (see `cluster-version.ts`): it raises the cluster version to
 * the highest every member of the configuration supports, voters and learners alike (both apply
 * the log), as each said at its last hello; a member it has not heard from holds the raise back.
 * It also tells which members hold a version back, and whether a node may join at all: one whose
 * release does not support the version the cluster runs would stop at the first newer command.
 */
export class ClusterVersionRaise {
  private inFlight = false;

  constructor(private readonly options: ClusterVersionRaiseOptions) {}

  /** The highest cluster version `node` said it supports, or undefined when it has not said hello to this node. */
  supported(node: NodeId): number | undefined {
    if (node === this.options.id) return RELEASE_CLUSTER_VERSION;
    const identity = this.options.peers().find((peer) => peer.id === node);
    if (identity === undefined) return undefined;
    return identity.release?.clusterVersionMax ?? UNVERSIONED_CLUSTER_VERSION;
  }

  /** Members of `membership` that do not (or are not known to) support `version`, each with what it supports. */
  membersBelow(version: number, membership: Membership): string[] {
    const below: string[] = [];
    for (const node of [...membership.voters, ...membership.learners]) {
      const supported = this.supported(node);
      if (supported === undefined) below.push(`${node} (not heard from)`);
      else if (supported < version) below.push(`${node} (supports ${supported})`);
    }
    return below;
  }

  /** Why `node` may not join the configuration now, or undefined when it may. */
  joinRefusal(node: NodeId): string | undefined {
    const supported = this.supported(node);
    const running = this.options.running();
    if (supported === undefined || supported >= running) return undefined;
    return `its release supports cluster version ${supported}, and the cluster runs ${running}: upgrade it first`;
  }

  /** Each autopilot round, on the leader. */
  run(status: RaftStatus): void {
    if (status.role !== 'leader' || this.inFlight) return;
    const running = this.options.running();
    if (running >= RELEASE_CLUSTER_VERSION) return;
    let target = RELEASE_CLUSTER_VERSION;
    for (const node of [...status.membership.voters, ...status.membership.learners]) {
      const supported = this.supported(node);
      if (supported === undefined) return;
      target = Math.min(target, supported);
    }
    if (target <= running) return;
    this.inFlight = true;
    this.options.log.info({ from: running, to: target }, 'every member supports a newer cluster version: raising it');
    this.options
      .raise(target)
      .then(
        (version) => this.options.log.info({ version }, 'cluster version raised'),
        (error: unknown) => this.options.log.debug({ err: error }, 'cluster version raise not committed; it is tried again'),
      )
      .finally(() => {
        this.inFlight = false;
      });
  }
}
