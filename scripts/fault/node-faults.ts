import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
import type { FailpointName } from '../../src/storage/index.ts';
import { admin } from './network-faults.ts';

/**
 * Faults a running node suffers through its admin routes (--enable-fault-injection): a disk that
 * refuses or stalls writes, a wrong clock, a crash point armed now. And what the nemesis reads back: health
 * and metrics, to tell whether a fault was noticed and how long the node took to be well again.
 * `access`: the CA and admin token of a secured cluster.
 */
export async function failDisk(address: string, code: 'ENOSPC' | 'EIO' | null, access: NodeAccess = {}): Promise<void> {
  await admin(address, '/admin/faults/disk', { fail: code }, access);
}

/** Writes on the node hang (true) until released (false), the way a stalled disk holds them. */
export async function stallDisk(address: string, stall: boolean, access: NodeAccess = {}): Promise<void> {
  await admin(address, '/admin/faults/disk', { stall }, access);
}

export async function skewClock(address: string, offsetMs: number, driftPpm: number, access: NodeAccess = {}): Promise<void> {
  await admin(address, '/admin/faults/clock', { offsetMs, driftPpm }, access);
}

export async function armFailpoint(address: string, name: FailpointName | null, onHit = 1, access: NodeAccess = {}): Promise<void> {
  await admin(address, '/admin/faults/failpoint', { name, onHit }, access);
}

/** The node's /health, or undefined when it does not answer. */
export async function health(address: string, access: NodeAccess = {}): Promise<{ status: number; reason: string } | undefined> {
  try {
    const reply = await nodeRequest(address, '/health', access, { timeoutMs: 1000 });
    const body = JSON.parse(reply.text) as { reason?: string };
    return { status: reply.status, reason: body.reason ?? '' };
  } catch {
    return undefined;
  }
}

/** A gauge from the node's /metrics, or undefined when it does not answer. */
export async function metric(address: string, name: string, access: NodeAccess = {}): Promise<number | undefined> {
  try {
    const reply = await nodeRequest(address, '/metrics', access, { timeoutMs: 1000 });
    const line = reply.text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Milliseconds until every one of `addresses` answers /health with 200, or undefined past `timeoutMs`. */
export async function timeToHealthy(addresses: readonly string[], timeoutMs: number, access: NodeAccess = {}): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const states = await Promise.all(addresses.map((address) => health(address, access)));
    if (states.every((state) => state?.status === 200)) return Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}
