import { commandSince, type QueueCommandType } from '../../queue/index.ts';
import { RequestError, type WriteRequest } from '../../shared/index.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

/** The log command each write becomes: the version gate is the command's (see `cluster-version.ts`). */
const COMMAND_OF_OP: Readonly<Record<WriteRequest['op'], QueueCommandType>> = {
  enqueue: 'enqueue',
  receive: 'receive',
  ack: 'ack',
  nack: 'nack',
  extend: 'extend',
  configure: 'configure',
  purge: 'purge',
  delete: 'delete',
  redrive: 'redrive',
  pause: 'pause',
  resume: 'pause',
  promote: 'promote',
};

export function commandOfOp(op: WriteRequest['op']): QueueCommandType {
  return COMMAND_OF_OP[op];
}

/** What stops a command of `type`: the version it needs and the members that hold it back (none when only a replica lags behind the raise). */
export interface VersionHold {
  readonly since: number;
  readonly running: number;
  readonly holders: readonly string[];
}

/** Undefined when the cluster's version includes `type`; otherwise what holds it back. */
export function versionHold(type: QueueCommandType, running: number, membersBelow: (version: number) => readonly string[]): VersionHold | undefined {
  const since = commandSince(type) ?? Number.POSITIVE_INFINITY;
  if (since <= running || type === 'clusterVersion') return undefined;
  return { since, running, holders: membersBelow(since) };
}

/**
 * The refusal of a command the cluster's version does not include yet. While a member holds the
 * version back, `FEATURE_NOT_ENABLED`, naming it: an operator has to act. When none does, the raise
 * is due within an autopilot round (a new cluster, the end of an upgrade): a retryable `UNAVAILABLE`.
 */
export function versionRefusal(type: QueueCommandType, hold: VersionHold): RequestError {
  const { since, running, holders } = hold;
  if (holders.length === 0) {
    return new RequestError(
      'UNAVAILABLE',
      `${type} needs cluster version ${since}, which every member supports: it is being raised from ${running}; retry`,
      RETRY_AFTER_MS.versionRaise,
    );
  }
  const who = `${holders.join(', ')} still run${holders.length === 1 ? 's' : ''} an older release`;
  return new RequestError(
    'FEATURE_NOT_ENABLED',
    `${type} needs cluster version ${since}; the cluster runs version ${running} until every member supports ${since} (${who})`,
  );
}
