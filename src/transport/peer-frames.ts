import { type GossipMessage, isGossipMessage } from '../gossip/index.ts';
import { isMessage, type Message, type NodeId } from '../raft/index.ts';
import { ERROR_CODES, type ErrorBody, type Fields, isNodeId as isId, isFields as isRecord, type ReleaseInfo, type WriteRequest } from '../shared/index.ts';
import { isNonce } from './cluster-keys.ts';
import { isPeerAddress } from './peer-address.ts';
import { isSnapshotAck, isSnapshotChunk, type SnapshotAckFrame, type SnapshotChunkFrame } from './snapshot-chunks.ts';

/**
 * Bumped on any incompatible change of the frames. A node speaks a range of versions: its hello
 * names the lowest (`v`) and its release the highest, and a link speaks the highest both know, so
 * a release that adds version N+1 still speaks N to the nodes it replaces. A peer whose range does
 * not meet this node's is refused at hello, saying why.
 * 3: hellos carry nonces and proofs (peer authentication), and every frame is checked in depth.
 */
export const PEER_PROTOCOL_VERSION = 3;
/** The oldest version this release still speaks: releases from before the range spoke only 3. */
export const PEER_PROTOCOL_VERSION_MIN = 3;

/**
 * What a peer's release supports, said at hello: the highest peer protocol version and the highest
 * cluster version (see `cluster-version.ts`), and its package version for people (`GET /cluster`
 * shows the same). Releases before the version gate say nothing: they speak protocol 3 and cluster
 * version 1.
 */
export type PeerRelease = ReleaseInfo;

/** The deepest nesting a peer frame may have: a forwarded enqueue is 4 levels above its body's 64. */
export const PEER_FRAME_DEPTH_MAX = 80;

const ERROR_MESSAGE_LENGTH_MAX = 4096;

export interface PeerIdentity {
  readonly id: NodeId;
  readonly address: string;
  /** The founding voters this node bootstrapped with, or null while it holds no cluster state. */
  readonly founders: readonly NodeId[] | null;
  /**
   * Whether the node holds cluster state (a log or a snapshot, or a log it lost and is repairing):
   * a node that announces no founders but holds state was a member of some cluster. Absent from
   * older releases, and then taken as true (see `foundersConflict`).
   */
  readonly holdsState?: boolean;
  /** Absent from a release before the version gate. */
  readonly release?: PeerRelease;
}

/** The handshake (see `peer-handshake.ts`): `nonce` and `proof` are present when the cluster has a key. */
export type HelloFrame = { readonly t: 'hello'; readonly v: number; readonly nonce?: Uint8Array } & PeerIdentity;
export type HelloAckFrame = { readonly t: 'helloAck'; readonly v: number; readonly nonce?: Uint8Array; readonly proof?: Uint8Array } & PeerIdentity;
export interface AuthFrame {
  readonly t: 'auth';
  readonly proof: Uint8Array;
}

export type PeerFrame =
  | HelloFrame
  | HelloAckFrame
  | AuthFrame
  /** `clock`: the sender's wall clock when it sent the frame (the cluster's time is the voters' median). */
  | { readonly t: 'raft'; readonly message: Message; readonly clock?: number }
  | { readonly t: 'gossip'; readonly message: GossipMessage }
  /** `request` is checked again by the leader, field by field, as a client's would be. */
  | { readonly t: 'forward'; readonly requestId: number; readonly request: WriteRequest }
  | { readonly t: 'forwardReply'; readonly requestId: number; readonly ok: true; readonly result: unknown }
  | { readonly t: 'forwardReply'; readonly requestId: number; readonly ok: false; readonly error: ErrorBody }
  | SnapshotChunkFrame
  | SnapshotAckFrame;

/**
 * The structural check at the trust boundary: a frame that fails it closes the link. Each kind is
 * checked as deep as the code that receives it reads it, so that nothing a peer sends can reach an
 * assertion in the Raft or gossip cores, or make this node dial an address it cannot use.
 */
export function isPeerFrame(value: unknown): value is PeerFrame {
  if (!isRecord(value) || typeof value.t !== 'string') return false;
  switch (value.t) {
    case 'hello':
      return isIdentity(value) && optionalNonce(value.nonce);
    case 'helloAck':
      return isIdentity(value) && optionalNonce(value.nonce) && (value.proof === undefined || value.proof instanceof Uint8Array);
    case 'auth':
      return value.proof instanceof Uint8Array;
    case 'raft':
      return isMessage(value.message) && (value.clock === undefined || (typeof value.clock === 'number' && Number.isFinite(value.clock)));
    case 'gossip':
      return isGossipMessage(value.message);
    case 'forward':
      return isRequestId(value.requestId) && isRecord(value.request);
    case 'forwardReply':
      return isRequestId(value.requestId) && (value.ok === true ? true : value.ok === false && isErrorBody(value.error));
    case 'snapshotChunk':
      return isSnapshotChunk(value);
    case 'snapshotAck':
      return isSnapshotAck(value);
    default:
      return false;
  }
}

/** Versions are small counts; anything else is not a frame our releases write. */
const VERSION_MAX = 1_000_000;

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= VERSION_MAX;
}

function isRelease(value: unknown): value is PeerRelease {
  if (!isRecord(value)) return false;
  return isVersion(value.protocolMax) && isVersion(value.clusterVersionMax) && typeof value.version === 'string' && value.version.length <= 64;
}

function isIdentity(frame: Fields): boolean {
  if (!isVersion(frame.v) || !isId(frame.id) || !isPeerAddress(frame.address)) return false;
  if (frame.release !== undefined && !isRelease(frame.release)) return false;
  if (frame.holdsState !== undefined && typeof frame.holdsState !== 'boolean') return false;
  const founders = frame.founders;
  if (founders === null || founders === undefined) return true;
  return Array.isArray(founders) && founders.length > 0 && founders.length <= 9 && founders.every(isId);
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (!isRecord(value)) return false;
  if (typeof value.code !== 'string' || !ERROR_CODES.has(value.code)) return false;
  if (typeof value.message !== 'string' || value.message.length > ERROR_MESSAGE_LENGTH_MAX) return false;
  const retryAfterMs = value.retryAfterMs;
  return retryAfterMs === undefined || (typeof retryAfterMs === 'number' && Number.isSafeInteger(retryAfterMs) && retryAfterMs >= 0);
}

function optionalNonce(value: unknown): boolean {
  return value === undefined || isNonce(value);
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
