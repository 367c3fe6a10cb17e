import { afterEach, describe, expect, it } from 'vitest';
import { dialOptionsOf, NodeConnection } from '../../../src/client/node-connection.ts';
import { SilenceWatch } from '../../../src/client/timing.ts';
import { FakeNode } from './fake-node.ts';

// Goal: the SDK gives up a node that stopped answering, and never one whose answers it could not
// read because its own event loop was held by a synchronous job: that mistake dropped the
// connection of every Worker whose job blocked for more than 0.8 s, and the node gave the job away.
const timing = { intervalMs: 200, silentForMsMax: 800, lagToleranceMs: 100 };

/** Ticks `watch` at `times` (ms); the first time it gives the peer up, or undefined. */
function firstGiveUp(watch: SilenceWatch, times: readonly number[]): number | undefined {
  return times.find((now) => watch.tick(now));
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // held: no timer runs, no socket is read
  }
}

describe('SilenceWatch', () => {
  it('gives up a peer silent for longer than the limit while the process listens', () => {
    const watch = new SilenceWatch(timing, 0);
    expect(firstGiveUp(watch, [200, 400, 600, 800, 1000, 1200])).toBe(1000);
  });

  it('counts a tick late within the tolerance as listening time', () => {
    const watch = new SilenceWatch(timing, 0);
    expect(firstGiveUp(watch, [290, 580, 870])).toBe(870);
  });

  it('does not count its own 2 s stall as the peer silence', () => {
    const watch = new SilenceWatch(timing, 0);
    expect(watch.tick(200)).toBe(false);
    watch.heard(201); // the pong to the last ping, read just before a job held the loop
    expect(watch.tick(2200)).toBe(false); // the first timer after the stall, before the socket is read
    expect(watch.silentForMs(2200)).toBeLessThanOrEqual(timing.intervalMs + timing.lagToleranceMs);
    watch.heard(2201); // the pongs that waited in the socket
    expect(firstGiveUp(watch, [2400, 2600, 2800])).toBeUndefined();
  });

  it('still gives up a peer that is gone while the process stalls again and again', () => {
    const watch = new SilenceWatch(timing, 0);
    // Every tick comes 2 s late and nothing is ever heard: each adds its ordinary interval (and the
    // tolerance), so the peer is given up after 3 ticks instead of never.
    expect(firstGiveUp(watch, [2000, 4000, 6000, 8000, 10_000])).toBe(6000);
  });

  it('does not forgive a stall again for what was heard after it', () => {
    const watch = new SilenceWatch(timing, 0);
    expect(watch.tick(200)).toBe(false);
    // The stall was in a socket callback: the poll phase read the peer at its end, before this tick.
    watch.heard(2100);
    expect(watch.tick(2200)).toBe(false);
    // Forgiven: at most the 0.1 s between that word and this tick, not the 1.7 s stall (given up at 4.6 s).
    expect(firstGiveUp(watch, [2400, 2600, 2800, 3000, 3200, 3400, 3600, 3800, 4000, 4200, 4400, 4600, 4800])).toBe(3200);
  });
});

describe('NodeConnection liveness', () => {
  let node: FakeNode | undefined;
  let connection: NodeConnection | undefined;

  afterEach(async () => {
    connection?.close();
    await node?.stop();
    node = undefined;
    connection = undefined;
  });

  async function connected(): Promise<{ connection: NodeConnection; closed: Promise<number> }> {
    node = await FakeNode.start(() => ({ self: { role: 'leader' }, leader: null }));
    let onClose!: () => void;
    const closedAt = new Promise<number>((resolve) => (onClose = () => resolve(performance.now())));
    connection = await NodeConnection.open(node.address, dialOptionsOf(undefined, undefined), 2000, { onPush: () => undefined, onClose });
    return { connection, closed: closedAt };
  }

  it('keeps its connection through a 2 s stall of its own event loop', async () => {
    const { connection: open } = await connected();
    await new Promise((resolve) => setTimeout(resolve, 300)); // a ping and its pong go by
    blockEventLoop(2000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(open.isOpen).toBe(true);
    await expect(open.request({ op: 'cluster', stale: true }, 1000)).resolves.toMatchObject({ self: { role: 'leader' } });
    expect(node!.connectionCount).toBe(1);
  });

  it('still leaves a node that goes silent, about 0.8 s after its last word', async () => {
    const { connection: open, closed } = await connected();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pausedAt = performance.now();
    node!.pause();
    const closedAt = await closed;
    expect(open.isOpen).toBe(false);
    expect(closedAt - pausedAt).toBeGreaterThan(600);
    expect(closedAt - pausedAt).toBeLessThan(2000);
  });
});
