import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { decode, encode } from '../shared/codec.ts';
import type { PushFrame, ReplyFrame } from '../shared/index.ts';
import { requestOfFrame } from './frame-request.ts';
import { toErrorBody } from './forwarder.ts';
import type { NodeOptions } from './node-options.ts';
import type { RequestHandler } from './quorum-node.ts';
import { dispatch } from './request-dispatch.ts';
import { isSubscriptionFrame, subscriptionRequestOfFrame } from './subscription-request.ts';
import { type ConnectionSubscriptions, SubscriptionRegistry } from './subscriptions.ts';
import { coalesceWrites } from '../transport/write-coalescing.ts';

/** Requests one client connection may have outstanding; beyond it, the connection is read no further. */
const REQUESTS_PER_CONNECTION_MAX = 4096;

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

  constructor(
    private readonly handler: RequestHandler,
    private readonly options: NodeOptions,
    private readonly log: Logger,
  ) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.clientFrameBytesMax, perMessageDeflate: false });
    this.subscriptions = new SubscriptionRegistry(handler, log);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.sockets.size >= this.options.clientConnectionsMax || this.handler.unserviceable() !== undefined) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
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

  private accept(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.binaryType = 'nodebuffer';
    let outstanding = 0;
    const subscriptions = this.subscriptions.forConnection((frame) => pushTo(socket, frame));
    socket.on('close', () => {
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
      void this.answer(frame, subscriptions).then((reply) => {
        if (outstanding-- === REQUESTS_PER_CONNECTION_MAX) socket.resume();
        if (socket.readyState !== WebSocket.OPEN) return;
        coalesceWrites(socket);
        socket.send(encode(reply));
      });
    });
  }

  private async answer(frame: Record<string, unknown> & { id: number }, subscriptions: ConnectionSubscriptions): Promise<ReplyFrame> {
    const started = performance.now();
    let op = typeof frame.op === 'string' ? frame.op : 'unknown';
    try {
      const result = await this.route(frame, subscriptions);
      this.handler.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
      return { id: frame.id, ok: true, result };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'INTERNAL') this.log.error({ err: error }, 'client request failed');
      this.handler.metrics.observe(op, body.code, (performance.now() - started) / 1000);
      return { id: frame.id, ok: false, error: body };
    }
  }

  private async route(frame: Record<string, unknown>, subscriptions: ConnectionSubscriptions): Promise<unknown> {
    if (isSubscriptionFrame(frame)) return subscriptions.handle(subscriptionRequestOfFrame(frame));
    const request = requestOfFrame(frame);
    const result = await dispatch(this.handler, request);
    subscriptions.onAnswered(request, result);
    return result;
  }
}

/** An unsolicited frame for a subscriber; false when its connection can no longer take it. */
function pushTo(socket: WebSocket, frame: PushFrame): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  coalesceWrites(socket);
  socket.send(encode(frame));
  return true;
}

function parseFrame(data: Buffer, isBinary: boolean): (Record<string, unknown> & { id: number }) | undefined {
  if (!isBinary) return undefined;
  try {
    const frame = decode(data);
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
    const id = (frame as { id?: unknown }).id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
    return frame as Record<string, unknown> & { id: number };
  } catch {
    return undefined;
  }
}
