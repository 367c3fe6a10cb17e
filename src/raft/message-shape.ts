import { type Fields, isCount, isNodeId as isId, isFields as isRecord, NODE_LIMITS } from '../shared/index.ts';
import type { Entry, Membership, Message, SnapshotMeta } from './types.ts';

/**
 * Bounds on what a well-formed message may carry. A correct leader stays far inside them (it sends
 * at most `appendEntriesMax` entries, see `DEFAULT_RAFT_LIMITS`); they exist so that a message from
 * a faulty or forged peer is refused at the edge instead of reaching the core's invariants.
 */
export const MESSAGE_SHAPE_LIMITS = {
  readContextLengthMax: 256,
  entriesMax: 4096,
} as const;

const ENTRY_KINDS = new Set(['normal', 'config', 'noop']);
const REFUSALS = new Set(['NOT_LEADER', 'READ_DROPPED']);

/**
 * The structural check of a Raft message from the network: every field the core reads has its
 * type and range, and an append's entries follow the shape every correct leader gives them
 * (consecutive indexes after `prevIndex`, terms that never fall and never pass the message's term).
 * The core asserts on those relationships, so they must be settled here, where a lie is refused.
 * A snapshot message does not travel whole (see the transport's snapshot stream); its header's
 * metadata is checked with `isSnapshotMeta`.
 */
export function isMessage(value: unknown): value is Message {
  if (!isRecord(value)) return false;
  if (!isId(value.from) || !isId(value.to) || !isCount(value.term)) return false;
  switch (value.type) {
    case 'append':
      return isAppend(value);
    case 'appendResponse':
      return (
        isCount(value.index) && typeof value.reject === 'boolean' && isCount(value.rejectHint) && isCount(value.rejectTerm) && optionalBoolean(value.recovering)
      );
    case 'heartbeat':
      return isCount(value.commit) && isReadContext(value.readContext, true);
    case 'heartbeatResponse':
      return isReadContext(value.readContext, true) && optionalBoolean(value.recovering);
    case 'vote':
    case 'preVote':
      return isCount(value.lastIndex) && isCount(value.lastTerm) && typeof value.transfer === 'boolean';
    case 'voteResponse':
    case 'preVoteResponse':
      return typeof value.reject === 'boolean';
    case 'timeoutNow':
      return true;
    case 'readIndex':
      return isReadContext(value.readContext, false);
    case 'readIndexResponse':
      return (
        isReadContext(value.readContext, false) &&
        isCount(value.index) &&
        typeof value.reject === 'boolean' &&
        typeof value.refusal === 'string' &&
        REFUSALS.has(value.refusal)
      );
    default:
      // 'snapshot' included: it only ever arrives reassembled from the snapshot stream.
      return false;
  }
}

function isAppend(message: Fields): boolean {
  const { prevIndex, prevTerm, commit, entries, term } = message;
  if (!isCount(prevIndex) || !isCount(prevTerm) || !isCount(commit)) return false;
  if (!Array.isArray(entries) || entries.length > MESSAGE_SHAPE_LIMITS.entriesMax) return false;
  if (prevTerm > (term as number)) return false;
  let previousTerm = prevTerm;
  for (let position = 0; position < entries.length; position++) {
    const entry: unknown = entries[position];
    if (!isEntry(entry)) return false;
    if (entry.index !== prevIndex + 1 + position) return false;
    if (entry.term < previousTerm || entry.term > (term as number)) return false;
    previousTerm = entry.term;
  }
  return true;
}

export function isEntry(value: unknown): value is Entry {
  if (!isRecord(value)) return false;
  if (!isCount(value.index) || value.index < 1 || !isCount(value.term)) return false;
  if (typeof value.kind !== 'string' || !ENTRY_KINDS.has(value.kind)) return false;
  if (!(value.data instanceof Uint8Array)) return false;
  if (value.kind === 'config') return isMembership(value.membership);
  return value.membership === undefined;
}

/**
 * A snapshot message without its data, as the snapshot stream announces it before the data
 * follows in chunks.
 */
export function isSnapshotAnnouncement(value: unknown): boolean {
  if (!isRecord(value) || value.type !== 'snapshot') return false;
  if (!isId(value.from) || !isId(value.to) || !isCount(value.term)) return false;
  return isRecord(value.snapshot) && isSnapshotMeta(value.snapshot.meta);
}

export function isSnapshotMeta(value: unknown): value is SnapshotMeta {
  return isRecord(value) && isCount(value.index) && isCount(value.term) && isMembership(value.membership);
}

function isMembership(value: unknown): value is Membership {
  if (!isRecord(value)) return false;
  const { voters, learners } = value;
  if (!isIdList(voters) || !isIdList(learners)) return false;
  const everyone = new Set([...voters, ...learners]);
  return everyone.size === voters.length + learners.length;
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= NODE_LIMITS.membersMax && value.every(isId);
}

function isReadContext(value: unknown, mayBeEmpty: boolean): boolean {
  return typeof value === 'string' && value.length <= MESSAGE_SHAPE_LIMITS.readContextLengthMax && (mayBeEmpty || value !== '');
}

function optionalBoolean(value: unknown): boolean {
  return value === undefined || typeof value === 'boolean';
}
