import { isCount, isFields, isNodeId as isId, NODE_LIMITS } from '../shared/index.ts';
import { MEMBERS_LIMIT } from './gossip-config.ts';
import type { GossipMessage } from './types.ts';

/**
 * The structural check of a gossip message from the network. The core switches on `type` and
 * asserts on the unknown, reads `probe` as a number and `target` as an id, so those are settled
 * here; each claim inside is checked by the core itself (`isWellFormed`), claim by claim, because
 * one bad claim should not cost the good ones that travel with it.
 */
export function isGossipMessage(value: unknown): value is GossipMessage {
  if (!isFields(value)) return false;
  if (!isId(value.from) || !isId(value.to) || !isClaimList(value.updates)) return false;
  switch (value.type) {
    case 'ping':
    case 'ack':
      return isProbe(value.probe);
    case 'pingReq':
      return (
        isProbe(value.probe) && isId(value.target) && typeof value.targetAddress === 'string' && value.targetAddress.length <= NODE_LIMITS.addressLengthMax
      );
    case 'sync':
    case 'syncReply':
      return isClaimList(value.state);
    default:
      return false;
  }
}

function isClaimList(value: unknown): boolean {
  return Array.isArray(value) && value.length <= MEMBERS_LIMIT;
}

function isProbe(value: unknown): boolean {
  return isCount(value);
}
