import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { QueueStateMachine } from '../../queue/index.ts';
import { decodeChecked, encode } from '../../shared/codec.ts';
import { assert, type PushFrame, type ReplyFrame } from '../../shared/index.ts';
import { coalesceWrites } from '../../transport/write-coalescing.ts';
import type { Caller, ClientAccess } from '../access/index.ts';
import { requestOfFrame, toErrorBody } from '../requests/index.ts';
import { type ConnectionSubscriptions, isSubscriptionFrame, SubscriptionRegistry, subscriptionRequestOfFrame } from '../subscriptions/index.ts';
import type { ApiMetrics, ClientRequests } from './api-parts.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';

/** Requests one client connection may have outstanding; beyond it, the connection is read no further. */
const REQUESTS_PER_CONNECTION_MAX = 4096;
/** The deepest nesting a client frame may have: a message body's 64 levels inside `{ messages: [ { body } ] }`. */
const CLIENT_FRAME_DEPTH_MAX = 80;
/**
 * Values one client frame may hold: decoding builds an object per map at about 70 ns a value here,
 * so this caps one frame's hold on the event loop near 0.1 s (a leader must heartbeat through it).
 */
const CLIENT_FRAME_VALUES_MAX = 1_000_000;
/** With an auth file, a connection that has not authenticated after this long is closed. */
const AUTHENTICATE_WITHIN_MS = 10_000;

/** How the node tells a client that is gone from one that is only busy. */
export interface ClientLivenessTiming {
  /** How often every client is pinged and the silent ones are looked for. */
  readonly pingEveryMs: number;
  /** A client not heard from for this long (a frame, a ping or a pong) is closed. */
  readonly silentForMsMax: number;
}

/**
 * A client's event loop may be held for seconds by its own work (a Worker's synchronous job, a
 * long GC), and meanwhile it answers no ping: such a client is busy, not gone, and closing its
 * connection would give back every lease its subscriptions hold, for its jobs to run again
 * elsewhere. So the node waits 30 s, three times the 10 s a busy client is promised, before it
 * closes a silent connection. It does close one: a client whose host vanished (power, network)
 * sends no FIN, and without this the node would keep its subscriptions leasing into a socket
 * nobody reads, each lease held until its visibility ends, for as long as TCP takes to notice
 * (about 15 minutes with unacknowledged data, never on an idle socket). A gone client is closed
 * 30 to 35 s after its last word (the limit plus one sweep), about the default visibility: its
 * leases come back no later than they would have expired. The SDK pings every 200 ms, so its
 * connections are heard from without these pings; they are for other clients (every WebSocket
 * library answers a ping on its own).
 */
export const CLIENT_LIVENESS: ClientLivenessTiming = { pingEveryMs: 5000, silentForMsMax: 30_000 };

/**
 * When each client was last heard from, by a monotonic clock the caller gives (tested without
 * waiting). A sweep that comes late means the node's own event loop was held: its clients' answers
 * wait unread in their sockets, so the lateness is not counted as their silence.
 */
export class ClientLiveness<Client> {
  private readonly lastHeard = new Map<Client, number>();
  private lastSweep: number;

  constructor(
    private readonly timing: ClientLivenessTiming,
    now: number,
  ) {
    this.lastSweep = now;
  }

  get size(): number {
    return this.lastHeard.size;
  }

  add(client: Client, now: number): void {
    this.lastHeard.set(client, now);
  }

  heard(client: Client, now: number): void {
    if (this.lastHeard.has(client)) this.lastHeard.set(client, now);
  }

  remove(client: Client): void {
    this.lastHeard.delete(client);
  }

  /** Called every `pingEveryMs`: the clients silent for too long (forgotten here), and the others, to ping. */
  sweep(now: number): { readonly silent: Client[]; readonly alive: Client[] } {
    // Up to a period late is a busy node; later than that, its loop was held for the excess.
    const stalledMs = now - this.lastSweep - 2 * this.timing.pingEveryMs;
    this.lastSweep = now;
    const silent: Client[] = [];
    const alive: Client[] = [];
    for (const [client, heard] of this.lastHeard) {
      const since = stalledMs > 0 ? Math.min(now, heard + stalledMs) : heard;
      if (since !== heard) this.lastHeard.set(client, since);
      if (now - since > this.timing.silentForMsMax) silent.push(client);
      else alive.push(client);
    }
    for (const client of silent) this.lastHeard.delete(client);
    return { silent, alive };
  }
}

export interface ClientSocketsOptions {
  readonly requests: ClientRequests;
  /** This node's replica: subscriptions read a queue's visibility from it. */
  readonly machine: QueueStateMachine;
  readonly metrics: ApiMetrics;
  readonly access: ClientAccess;
  readonly clientFrameBytesMax: number;
  readonly clientConnectionsMax: number;
  readonly log: Logger;
  /** `CLIENT_LIVENESS` unless a test wants it shorter. */
  readonly liveness?: ClientLivenessTiming;
}

/**
 * The WebSocket client protocol (docs/protocol.md): msgpack request frames `{ id, op, ... }`,
 * answered by `{ id, ok, result }` or `{ id, ok: false, error }` in completion order. A frame that
 * is not msgpack or has no numeric id closes that connection; the node keeps serving everyone else.
 * Push subscriptions live in `SubscriptionRegistry`; this class only routes frames to them.
 */
export class ClientSockets {
  private readonly server: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly subscriptions: SubscriptionRegistry;
  private readonly liveness: ClientLiveness<WebSocket>;
  private readonly livenessTimer: NodeJS.Timeout;

  private readonly access: ClientAccess;
  private readonly log: Logger;

  constructor(private readonly options: ClientSocketsOptions) {
    this.access = options.access;
    this.log = options.log;
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.clientFrameBytesMax, perMessageDeflate: false });
    this.subscriptions = new SubscriptionRegistry({ requests: options.requests, machine: options.machine, log: options.log });
    const liveness = options.liveness ?? CLIENT_LIVENESS;
    this.liveness = new ClientLiveness(liveness, performance.now());
    this.livenessTimer = setInterval(() => this.checkLiveness(), liveness.pingEveryMs);
    this.livenessTimer.unref();
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /**
   * A token in the upgrade's `Authorization` header is checked here (a wrong one is refused with 401
   * before the socket opens); without one, the connection must send an `auth` frame first.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.sockets.size >= this.options.clientConnectionsMax || this.options.requests.unserviceable() !== undefined) {
      refuseUpgrade(socket, 503, 'UNAVAILABLE', 'this node takes no more client connections now; try another');
      return;
    }
    const remote = request.socket.remoteAddress ?? 'unknown';
    const authorization = request.headers.authorization;
    let caller: Caller | undefined;
    if (!this.access.required || authorization !== undefined) {
      try {
        caller = this.access.authenticate(authorization, remote);
      } catch (error) {
        const body = toErrorBody(error);
        refuseUpgrade(socket, 401, body.code, body.message);
        return;
      }
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, caller, remote));
  }

  /**
   * Sends every client away (close code 1013, try again later): a node that cannot serve anyone
   * (its disk failed or stalled) would otherwise keep answering each retry with the same refusal,
   * and clients retry on the node they are connected to. A closed connection moves them on.
   */
  closeAll(reason: string): void {
    for (const socket of this.sockets) socket.close(1013, reason.slice(0, 120));
  }

  close(): void {
    clearInterval(this.livenessTimer);
    this.subscriptions.stop();
    for (const socket of this.sockets) socket.terminate();
    this.server.close();
  }

  private accept(socket: WebSocket, authenticated: Caller | undefined, remote: string): void {
    this.sockets.add(socket);
    socket.binaryType = 'nodebuffer';
    let outstanding = 0;
    const connection: ConnectionState = { caller: authenticated, remote };
    const subscriptions = this.subscriptions.forConnection((frame) => pushTo(socket, frame));
    const authDeadline =
      authenticated === undefined
        ? setTimeout(() => {
            if (connection.caller === undefined) socket.close(1008, 'no auth frame in time');
          }, AUTHENTICATE_WITHIN_MS)
        : undefined;
    authDeadline?.unref();
    this.liveness.add(socket, performance.now());
    socket.on('close', () => {
      clearTimeout(authDeadline);
      this.sockets.delete(socket);
      this.liveness.remove(socket);
      subscriptions.close();
    });
    socket.on('error', () => socket.terminate());
    socket.on('ping', () => this.liveness.heard(socket, performance.now()));
    socket.on('pong', () => this.liveness.heard(socket, performance.now()));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.liveness.heard(socket, performance.now());
      const frame = parseFrame(data, isBinary);
      if (frame === undefined) {
        socket.close(1002, 'malformed frame');
        return;
      }
      if (++outstanding >= REQUESTS_PER_CONNECTION_MAX) socket.pause();
      void this.answer(frame, connection, subscriptions).then((reply) => {
        if (outstanding-- === REQUESTS_PER_CONNECTION_MAX) socket.resume();
        assert(outstanding >= 0, 'a connection answered more requests than it read');
        if (socket.readyState !== WebSocket.OPEN) return;
        coalesceWrites(socket);
        socket.send(encode(reply));
      });
    });
  }

  /** Closes the connections of clients that are gone (no close handshake: nobody would answer it) and pings the rest. */
  private checkLiveness(): void {
    const now = performance.now();
    // A connection the node stopped reading (too many requests outstanding) cannot be heard: that silence is the node's.
    for (const socket of this.sockets) if (socket.isPaused) this.liveness.heard(socket, now);
    const { silent, alive } = this.liveness.sweep(now);
    if (silent.length > 0) this.log.info({ connections: silent.length }, 'closing client connections silent for too long');
    for (const socket of silent) socket.terminate();
    for (const socket of alive) if (socket.readyState === WebSocket.OPEN) socket.ping();
  }

  private async answer(
    frame: Record<string, unknown> & { id: number },
    connection: ConnectionState,
    subscriptions: ConnectionSubscriptions,
  ): Promise<ReplyFrame> {
    const started = performance.now();
    const op = typeof frame.op === 'string' ? frame.op : 'unknown';
    try {
      const result = await this.route(frame, connection, subscriptions);
      this.options.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
      return { id: frame.id, ok: true, result };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'INTERNAL') this.log.error({ err: error }, 'client request failed');
      this.options.metrics.observe(op, body.code, (performance.now() - started) / 1000);
      return { id: frame.id, ok: false, error: body };
    }
  }

  private async route(frame: Record<string, unknown>, connection: ConnectionState, subscriptions: ConnectionSubscriptions): Promise<unknown> {
    if (frame.op === 'auth') {
      connection.caller = this.access.authenticateToken(frame.token, connection.remote);
      return { name: connection.caller.principal.name };
    }
    const caller = connection.caller ?? this.access.authenticate(undefined, connection.remote);
    if (isSubscriptionFrame(frame)) {
      const subscription = subscriptionRequestOfFrame(frame);
      this.access.authorize(caller, subscription);
      return subscriptions.handle(subscription);
    }
    const request = requestOfFrame(frame);
    this.access.authorize(caller, request);
    const result = await this.options.requests.dispatch(request);
    subscriptions.onAnswered(request, result);
    return this.access.visibleResult(caller, request, result);
  }
}

/** An unsolicited frame for a subscriber; false when its connection can no longer take it. */
function pushTo(socket: WebSocket, frame: PushFrame): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  coalesceWrites(socket);
  socket.send(encode(frame));
  return true;
}

/** Who is on one connection: set from the upgrade's header, or by an `auth` frame. */
interface ConnectionState {
  caller: Caller | undefined;
  readonly remote: string;
}

function parseFrame(data: Buffer, isBinary: boolean): (Record<string, unknown> & { id: number }) | undefined {
  if (!isBinary) return undefined;
  try {
    const frame = decodeChecked(data, { depthMax: CLIENT_FRAME_DEPTH_MAX, valuesMax: CLIENT_FRAME_VALUES_MAX });
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
    const id = (frame as { id?: unknown }).id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
    return frame as Record<string, unknown> & { id: number };
  } catch {
    return undefined;
  }
}
