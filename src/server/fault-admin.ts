import type { NodeId } from '../raft/index.ts';
import { RequestError } from '../shared/index.ts';
import type { FaultFilter, PeerIdentity } from '../transport/index.ts';
import { objectBody } from './request-validation.ts';

export const FAULT_ADMIN_PREFIX = '/admin/faults';

/**
 * Fault-injection routes, present only on nodes started with --enable-fault-injection:
 *   GET  /admin/faults                     what is blocked now
 *   POST /admin/faults  { blockSendTo?, blockReceiveFrom? }   peers by id or host:port
 *   POST /admin/faults/heal                unblock everything
 */
export function handleFaultAdmin(
  method: string,
  path: string,
  body: unknown,
  faults: FaultFilter,
  peers: readonly PeerIdentity[],
): unknown {
  if (method === 'GET' && path === FAULT_ADMIN_PREFIX) return faults.describe();
  if (method === 'POST' && path === `${FAULT_ADMIN_PREFIX}/heal`) {
    faults.heal();
    return faults.describe();
  }
  if (method === 'POST' && path === FAULT_ADMIN_PREFIX) {
    const request = objectBody(body);
    for (const peer of peerList(request.blockSendTo, peers)) faults.blockSendTo(peer);
    for (const peer of peerList(request.blockReceiveFrom, peers)) faults.blockReceiveFrom(peer);
    return faults.describe();
  }
  throw new RequestError('NOT_FOUND', `no route ${method} ${path}`);
}

function peerList(value: unknown, peers: readonly PeerIdentity[]): NodeId[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new RequestError('BAD_REQUEST', 'peers are given as an array of node ids or host:port addresses');
  }
  return (value as string[]).map((name) => {
    const peer = peers.find((candidate) => candidate.id === name || candidate.address === name);
    if (peer === undefined) throw new RequestError('NOT_FOUND', `no known peer ${name}`);
    return peer.id;
  });
}
