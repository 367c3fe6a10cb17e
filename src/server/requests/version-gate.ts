import { commandSince, type QueueCommandType } from '../../queue/index.ts';
import { RequestError, type WriteRequest } from '../../shared/index.ts';

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

/**
 * The refusal of a command the cluster's version does not include yet, or undefined when it may be
 * proposed. `membersBelow` names the members whose release holds the version back.
 */
export function versionRefusal(type: QueueCommandType, running: number, membersBelow: (version: number) => readonly string[]): RequestError | undefined {
  const since = commandSince(type) ?? Number.POSITIVE_INFINITY;
  if (since <= running || type === 'clusterVersion') return undefined;
  const below = membersBelow(since);
  const holders =
    below.length === 0 ? 'the raise has not reached this node yet' : `${below.join(', ')} still run${below.length === 1 ? 's' : ''} an older release`;
  return new RequestError(
    'FEATURE_NOT_ENABLED',
    `${type} needs cluster version ${since}; the cluster runs version ${running} until every member supports ${since} (${holders})`,
  );
}
