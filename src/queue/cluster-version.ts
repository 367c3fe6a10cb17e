import type { QueueCommandType } from './queue-commands.ts';

/**
 * The cluster version: what the replicated log may hold. It is raised in the log itself (the
 * `clusterVersion` command), by the leader, only once every member runs a release that supports the
 * new version; a command that needs a version the cluster has not reached is never proposed. So a
 * rolling upgrade never shows an old node a command it cannot apply, and a downgrade is possible
 * until the version is raised (after that, only to releases that support it).
 *
 * 1: the log of release 0.2 (enqueue, receive, ack, nack, extend, configure, purge, delete, redrive,
 *    pause, tick). Releases before the gate know no version: they count as 1.
 * 2: `clusterVersion` and `promote`; queues count nacks, lease expiries and expiries (from the raise).
 */
export const RELEASE_CLUSTER_VERSION = 2;

/** The version a peer is taken to support when it says nothing (a release from before the gate). */
export const UNVERSIONED_CLUSTER_VERSION = 1;

/** The cluster version each command needs: the one that added it. */
const COMMAND_SINCE: Readonly<Record<QueueCommandType, number>> = {
  enqueue: 1,
  receive: 1,
  ack: 1,
  nack: 1,
  extend: 1,
  configure: 1,
  purge: 1,
  delete: 1,
  redrive: 1,
  pause: 1,
  tick: 1,
  clusterVersion: 2,
  promote: 2,
};

/** The cluster version `type` needs, or undefined for a type this release does not know. */
export function commandSince(type: unknown): number | undefined {
  return typeof type === 'string' && Object.hasOwn(COMMAND_SINCE, type) ? COMMAND_SINCE[type as QueueCommandType] : undefined;
}
