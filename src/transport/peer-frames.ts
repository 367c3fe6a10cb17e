import type { GossipMessage } from '../gossip/index.ts';
import type { Message, NodeId } from '../raft/index.ts';
import type { ErrorBody, WriteRequest } from '../shared/index.ts';
import { isSnapshotAck, isSnapshotChunk, type SnapshotAckFrame, type SnapshotChunkFrame } from './snapshot-chunks.ts';

/** Bumped on any incompatible change; a peer speaking another version is refused at hello. */
export const PEER_PROTOCOL_VERSION = 2;

export interface PeerIdentity {
  readonly id: NodeId;
  readonly address: string;
  /** The founding voters this node bootstrapped with, or null while it holds no cluster state. */
  readonly founders: readonly NodeId[] | null;
}

export type PeerFrame =
  | ({ readonly t: 'hello'; readonly v: number } & PeerIdentity)
  | ({ readonly t: 'helloAck'; readonly v: number } & PeerIdentity)
  /** `clock`: the sender's wall clock when it sent the frame (the cluster's time is the voters' median). */
  | { readonly t: 'raft'; readonly message: Message; readonly clock?: number }
  | { readonly t: 'gossip'; readonly message: GossipMessage }
  | { readonly t: 'forward'; readonly requestId: number; readonly request: WriteRequest }
  | { readonly t: 'forwardReply'; readonly requestId: number; readonly ok: true; readonly result: unknown }
  | { readonly t: 'forwardReply'; readonly requestId: number; readonly ok: false; readonly error: ErrorBody }
  | SnapshotChunkFrame
  | SnapshotAckFrame;

const FRAME_TYPES = new Set(['hello', 'helloAck', 'raft', 'gossip', 'forward', 'forwardReply', 'snapshotChunk', 'snapshotAck']);

/** A structural check at the trust boundary: anything else closes the connection. */
export function isPeerFrame(value: unknown): value is PeerFrame {
  if (typeof value !== 'object' || value === null) return false;
  const frame = value as { t?: unknown; v?: unknown; id?: unknown; address?: unknown; message?: unknown; requestId?: unknown };
  if (typeof frame.t !== 'string' || !FRAME_TYPES.has(frame.t)) return false;
  switch (frame.t) {
    case 'hello':
    case 'helloAck':
      return frame.v === PEER_PROTOCOL_VERSION && typeof frame.id === 'string' && frame.id !== '' && typeof frame.address === 'string';
    case 'raft':
      return typeof frame.message === 'object' && frame.message !== null && ['undefined', 'number'].includes(typeof (frame as { clock?: unknown }).clock);
    case 'gossip':
      return isGossipShape(frame.message);
    case 'snapshotChunk':
      return isSnapshotChunk(frame);
    case 'snapshotAck':
      return isSnapshotAck(frame);
    default:
      return typeof frame.requestId === 'number';
  }
}

const GOSSIP_TYPES = new Set(['ping', 'ack', 'pingReq', 'sync', 'syncReply']);

/** The gossip core asserts on an unknown message type, so an unknown one must never reach it. */
function isGossipShape(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as { type?: unknown; from?: unknown; to?: unknown; updates?: unknown };
  return (
    typeof candidate.type === 'string' &&
    GOSSIP_TYPES.has(candidate.type) &&
    typeof candidate.from === 'string' &&
    typeof candidate.to === 'string' &&
    Array.isArray(candidate.updates)
  );
}
