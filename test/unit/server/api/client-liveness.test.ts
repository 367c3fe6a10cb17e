import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { QueueStateMachine } from '../../../../src/queue/index.ts';
import { ClientAccess } from '../../../../src/server/access/client-access.ts';
import type { ClientRequests } from '../../../../src/server/api/api-parts.ts';
import { CLIENT_LIVENESS, ClientLiveness, ClientSockets } from '../../../../src/server/api/client-sockets.ts';
import { CLIENT_SOCKET_PATH } from '../../../../src/shared/index.ts';

// Goal: a node keeps the connection of a client that is only busy (its event loop held for seconds
// answers no ping) and closes, in bounded time, that of a client that is gone; and it does not take
// its own stall for its clients' silence.
const SECOND = 1000;

/** Sweeps `liveness` every `everyMs` from `fromMs` to `toMs`; the first time `client` comes out silent. */
function silentAt<Client>(liveness: ClientLiveness<Client>, client: Client, fromMs: number, toMs: number, everyMs: number): number | undefined {
  for (let now = fromMs; now <= toMs; now += everyMs) if (liveness.sweep(now).silent.includes(client)) return now;
  return undefined;
}

describe('ClientLiveness', () => {
  it('keeps a client silent for 10 s, and closes one gone for good 30 to 35 s after its last word', () => {
    const liveness = new ClientLiveness<string>(CLIENT_LIVENESS, 0);
    liveness.add('busy', 0);
    liveness.add('gone', 0);
    for (let now = 5 * SECOND; now <= 10 * SECOND; now += 5 * SECOND) expect(liveness.sweep(now).silent).toEqual([]);
    liveness.heard('busy', 10.5 * SECOND); // answers the pings that waited while it was busy
    expect(silentAt(liveness, 'gone', 15 * SECOND, 60 * SECOND, 5 * SECOND)).toBe(35 * SECOND);
    expect(liveness.size).toBe(1); // the gone client is forgotten; the busy one is still there
  });

  it('does not count its own stall as its clients silence', () => {
    const liveness = new ClientLiveness<string>(CLIENT_LIVENESS, 0);
    liveness.add('client', 4 * SECOND);
    expect(liveness.sweep(5 * SECOND).silent).toEqual([]);
    // The node's loop was held for 40 s: 30 s beyond the tolerated period are not the client's silence.
    expect(liveness.sweep(45 * SECOND).silent).toEqual([]);
    // Still gone after that: closed once 30 s of the node's listening have passed (from 34 s on).
    expect(silentAt(liveness, 'client', 50 * SECOND, 100 * SECOND, 5 * SECOND)).toBe(65 * SECOND);
  });

  it('counts a sweep late within one period as listening time', () => {
    const liveness = new ClientLiveness<string>(CLIENT_LIVENESS, 0);
    liveness.add('client', 0);
    expect(silentAt(liveness, 'client', 9 * SECOND, 60 * SECOND, 9 * SECOND)).toBe(36 * SECOND);
  });
});

describe('ClientSockets liveness on a real socket', () => {
  let server: Server | undefined;
  let sockets: ClientSockets | undefined;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    sockets?.close();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  async function listening(): Promise<string> {
    const requests = { dispatch: async () => ({}), write: async () => ({}), unserviceable: () => undefined } as unknown as ClientRequests;
    const log = pino({ level: 'silent' });
    sockets = new ClientSockets({
      requests,
      machine: {} as QueueStateMachine,
      metrics: { observe: () => undefined, registry: { metrics: async () => '', contentType: 'text/plain' } },
      access: new ClientAccess(undefined, log),
      clientFrameBytesMax: 1 << 20,
      clientConnectionsMax: 10,
      log,
      liveness: { pingEveryMs: 50, silentForMsMax: 300 },
    });
    const endpoint = sockets;
    server = createServer();
    server.on('upgrade', (request, socket, head) => endpoint.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}${CLIENT_SOCKET_PATH}`;
  }

  async function open(url: string, autoPong: boolean): Promise<{ client: WebSocket; closedAt: Promise<number>; pings: () => number }> {
    const client = new WebSocket(url, { autoPong });
    clients.push(client);
    let pings = 0;
    client.on('ping', () => pings++);
    const closedAt = new Promise<number>((resolve) => client.on('close', () => resolve(performance.now())));
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    return { client, closedAt, pings: () => pings };
  }

  it('pings its clients, keeps those that answer and closes one that does not', async () => {
    const url = await listening();
    const answering = await open(url, true);
    const openedAt = performance.now();
    const mute = await open(url, false);
    const closedAt = await mute.closedAt;
    expect(closedAt - openedAt).toBeGreaterThan(250);
    expect(closedAt - openedAt).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answering.client.readyState).toBe(WebSocket.OPEN);
    expect(answering.pings()).toBeGreaterThan(3);
  });
});
