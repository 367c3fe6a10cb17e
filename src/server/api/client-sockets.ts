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

export interface ClientSocketsOptions {
  readonly requests: ClientRequests;
  /** This node's replica: subscriptions read a queue's visibility from it. */
  readonly machine: QueueStateMachine;
  readonly metrics: ApiMetrics;
  readonly access: ClientAccess;
  readonly clientFrameBytesMax: number;
  readonly clientConnectionsMax: number;
  readonly log: Logger;
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

  private readonly access: ClientAccess;
  private readonly log: Logger;

  constructor(private readonly options: ClientSocketsOptions) {
    this.access = options.access;
    this.log = options.log;
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.clientFrameBytesMax, perMessageDeflate: false });
    this.subscriptions = new SubscriptionRegistry({ requests: options.requests, machine: options.machine, log: options.log });
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
    socket.on('close', () => {
      clearTimeout(authDeadline);
      this.sockets.delete(socket);
      subscriptions.close();
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer, isBinary: boolean) => {
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
