import type { NodeId } from '../../raft/index.ts';
import { RequestError } from '../../shared/index.ts';
import { DISK_FAULT_CODES, type DiskFaults, FAILPOINT_NAMES, type Failpoints, isDiskFaultCode, isFailpointName } from '../../storage/index.ts';
import type { FaultFilter, PeerIdentity } from '../../transport/index.ts';
import type { NodeClock } from '../clocks/index.ts';
import { objectBody } from '../requests/index.ts';

export const FAULT_ADMIN_PREFIX = '/admin/faults';

/** What a node started with --enable-fault-injection lets tests break. */
export interface FaultControls {
  readonly network: FaultFilter;
  readonly disk: DiskFaults;
  readonly clock: NodeClock;
  readonly failpoints: Failpoints;
}

/**
 * Fault-injection routes, present only on nodes started with --enable-fault-injection:
 *   GET  /admin/faults                     what is blocked now
 *   POST /admin/faults  { blockSendTo?, blockReceiveFrom? }   peers by id or host:port
 *   POST /admin/faults/disk { fail: "ENOSPC" | "EIO" | "EROFS" | null }   the disk refuses writes, or no longer
 *   POST /admin/faults/disk { stall: true | false }   writes hang (a stalled disk) until stall: false
 *   POST /admin/faults/clock { offsetMs?, driftPpm? }   skew this node's clock (both 0: a true clock)
 *   POST /admin/faults/failpoint { name, onHit? }   crash at that point's onHit-th hit from now (name null: disarm)
 *   POST /admin/faults/heal                unblock everything, disk and clock included (armed failpoints stay armed)
 */
export function handleFaultAdmin(method: string, path: string, body: unknown, faults: FaultControls, peers: readonly PeerIdentity[]): unknown {
  const describe = (): unknown => ({
    ...faults.network.describe(),
    disk: faults.disk.current ?? null,
    diskStalled: faults.disk.stalled,
    clock: faults.clock.current,
    failpoints: faults.failpoints.describe(),
  });
  if (method === 'GET' && path === FAULT_ADMIN_PREFIX) return describe();
  if (method === 'POST' && path === `${FAULT_ADMIN_PREFIX}/heal`) {
    faults.network.heal();
    faults.disk.clear();
    faults.clock.set({ offsetMs: 0, driftPpm: 0 });
    return describe();
  }
  if (method === 'POST' && path === `${FAULT_ADMIN_PREFIX}/failpoint`) {
    const { name, onHit = 1 } = objectBody(body);
    if (name === null) faults.failpoints.disarmAll();
    else if (typeof name !== 'string' || !isFailpointName(name))
      throw new RequestError('BAD_REQUEST', `name must be null or one of ${FAILPOINT_NAMES.join(', ')}`);
    else if (!Number.isSafeInteger(onHit) || (onHit as number) < 1) throw new RequestError('BAD_REQUEST', 'onHit must be a whole number from 1');
    else faults.failpoints.arm({ name, action: 'crash', onHit: onHit as number });
    return describe();
  }
  if (method === 'POST' && path === `${FAULT_ADMIN_PREFIX}/clock`) {
    const { offsetMs = 0, driftPpm = 0 } = objectBody(body);
    if (typeof offsetMs !== 'number' || typeof driftPpm !== 'number') throw new RequestError('BAD_REQUEST', 'offsetMs and driftPpm are numbers');
    try {
      faults.clock.set({ offsetMs, driftPpm });
    } catch (error) {
      throw new RequestError('BAD_REQUEST', (error as Error).message);
    }
    return describe();
  }
  if (method === 'POST' && path === `${FAULT_ADMIN_PREFIX}/disk`) {
    const { fail, stall } = objectBody(body);
    if (fail === undefined && stall === undefined) throw new RequestError('BAD_REQUEST', 'give fail, stall or both');
    if (stall !== undefined && typeof stall !== 'boolean') throw new RequestError('BAD_REQUEST', 'stall must be true or false');
    if (fail !== undefined && fail !== null && !isDiskFaultCode(fail)) {
      throw new RequestError('BAD_REQUEST', `fail must be null or one of ${DISK_FAULT_CODES.join(', ')}`);
    }
    if (fail === null) faults.disk.stopFailing();
    else if (fail !== undefined) faults.disk.fail(fail);
    if (stall === true) faults.disk.stallWrites();
    if (stall === false) faults.disk.resume();
    return describe();
  }
  if (method === 'POST' && path === FAULT_ADMIN_PREFIX) {
    const request = objectBody(body);
    for (const peer of peerList(request.blockSendTo, peers)) faults.network.blockSendTo(peer);
    for (const peer of peerList(request.blockReceiveFrom, peers)) faults.network.blockReceiveFrom(peer);
    return describe();
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
