import type { FailpointName } from '../../src/storage/index.ts';
import { admin } from './network-faults.ts';

/**
 * Faults a running node suffers through its admin routes (--enable-fault-injection): a disk that
 * refuses or stalls writes, a wrong clock, a crash point armed now. And what the nemesis reads back: health
 * and metrics, to tell whether a fault was noticed and how long the node took to be well again.
 */
export async function failDisk(address: string, code: 'ENOSPC' | 'EIO' | null): Promise<void> {
  await admin(address, '/admin/faults/disk', { fail: code });
}

/** Writes on the node hang (true) until released (false), the way a stalled disk holds them. */
export async function stallDisk(address: string, stall: boolean): Promise<void> {
  await admin(address, '/admin/faults/disk', { stall });
}

export async function skewClock(address: string, offsetMs: number, driftPpm: number): Promise<void> {
  await admin(address, '/admin/faults/clock', { offsetMs, driftPpm });
}

export async function armFailpoint(address: string, name: FailpointName | null, onHit = 1): Promise<void> {
  await admin(address, '/admin/faults/failpoint', { name, onHit });
}

/** The node's /health, or undefined when it does not answer. */
export async function health(address: string): Promise<{ status: number; reason: string } | undefined> {
  try {
    const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { reason?: string };
    return { status: response.status, reason: body.reason ?? '' };
  } catch {
    return undefined;
  }
}

/** A gauge from the node's /metrics, or undefined when it does not answer. */
export async function metric(address: string, name: string): Promise<number | undefined> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(1000) });
    const line = (await response.text()).split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Milliseconds until every one of `addresses` answers /health with 200, or undefined past `timeoutMs`. */
export async function timeToHealthy(addresses: readonly string[], timeoutMs: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const states = await Promise.all(addresses.map((address) => health(address)));
    if (states.every((state) => state?.status === 200)) return Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}
