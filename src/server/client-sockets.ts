import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { decode, encode } from '../shared/codec.ts';
import type { ReplyFrame } from '../shared/index.ts';
import { requestOfFrame } from './frame-request.ts';
import { toErrorBody } from './forwarder.ts';
import type { NodeOptions } from './node-options.ts';
import type { RequestHandler } from './quorum-node.ts';
import { dispatch } from './request-dispatch.ts';

/** Requests one client connection may have outstanding; beyond it, the connection is read no further. */
const REQUESTS_PER_CONNECTION_MAX = 4096;

/**
 * The WebSocket client protocol (docs/protocol.md): msgpack request frames `{ id, op, ... }`,
 * answered by `{ id, ok, result }` or `{ id, ok: false, error }` in completion order. A frame that
 * is not msgpack or has no numeric id closes that connection; the node keeps serving everyone else.
 */
export class ClientSockets {
  private readonly server: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly handler: RequestHandler,
    private readonly options: NodeOptions,
    private readonly log: Logger,
  ) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.clientFrameBytesMax, perMessageDeflate: false });
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.sockets.size >= this.options.clientConnectionsMax) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
    this.server.close();
  }

  private accept(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.binaryType = 'nodebuffer';
    let outstanding = 0;
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = parseFrame(data, isBinary);
      if (frame === undefined) {
        socket.close(1002, 'malformed frame');
        return;
      }
      if (++outstanding >= REQUESTS_PER_CONNECTION_MAX) socket.pause();
      void this.answer(frame).then((reply) => {
        if (outstanding-- === REQUESTS_PER_CONNECTION_MAX) socket.resume();
        if (socket.readyState === WebSocket.OPEN) socket.send(encode(reply));
      });
    });
  }

  private async answer(frame: Record<string, unknown> & { id: number }): Promise<ReplyFrame> {
    const started = performance.now();
    let op = typeof frame.op === 'string' ? frame.op : 'unknown';
    try {
      const request = requestOfFrame(frame);
      op = request.op;
      const result = await dispatch(this.handler, request);
      this.handler.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
      return { id: frame.id, ok: true, result };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'INTERNAL') this.log.error({ err: error }, 'client request failed');
      this.handler.metrics.observe(op, body.code, (performance.now() - started) / 1000);
      return { id: frame.id, ok: false, error: body };
    }
  }
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
