import WebSocket from 'ws';
import { decode, encode } from '../shared/codec.ts';
import { CLIENT_SOCKET_PATH, type PushFrame, type ReplyFrame, type SocketRequest } from '../shared/index.ts';
import { QuorumqError } from './client-errors.ts';
import { coalesceWrites } from '../transport/write-coalescing.ts';
import { zeroMask } from '../shared/unmasked-frames.ts';

interface Waiting {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: QuorumqError) => void;
  readonly timer: NodeJS.Timeout;
}

/** What the owner of a connection hears besides replies. */
export interface ConnectionEvents {
  /** A push frame (a subscription's delivery). Never called before the replies that precede it are handled. */
  readonly onPush: (connection: NodeConnection, frame: PushFrame) => void;
  /** The connection is gone, whoever closed it; called once. */
  readonly onClose: (connection: NodeConnection) => void;
}

const NO_EVENTS: ConnectionEvents = { onPush: () => undefined, onClose: () => undefined };

/**
 * A node that is paused or cut off keeps its socket open and simply stops answering: the client
 * pings it and gives the connection up when nothing at all came back for a while, so its requests
 * fail over in about a second instead of waiting out their own timeouts. The wait is about the
 * cluster's election timeout (0.5-1 s by default): a leader silent that long is being replaced,
 * and a client on the leader (as the SDK prefers) should be gone by the time the new one is elected.
 */
const PING_EVERY_MS = 200;
const SILENT_FOR_MS_MAX = 800;

/** One WebSocket to one node, with requests matched to replies by id. */
export class NodeConnection {
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  private closed = false;
  private lastHeard = Date.now();
  private readonly pinger: NodeJS.Timeout;

  private constructor(
    readonly address: string,
    private readonly socket: WebSocket,
    private readonly events: ConnectionEvents,
  ) {
    socket.on('message', (data: Buffer) => {
      this.lastHeard = Date.now();
      this.onFrame(data);
    });
    socket.on('pong', () => {
      this.lastHeard = Date.now();
    });
    this.pinger = setInterval(() => this.checkAlive(), PING_EVERY_MS);
    this.pinger.unref();
    socket.on('close', () => {
      clearInterval(this.pinger);
      this.failAll(new QuorumqError('UNAVAILABLE', `connection to ${address} closed; the outcome is unknown`));
      events.onClose(this);
    });
    socket.on('error', () => socket.terminate());
  }

  static open(address: string, timeoutMs: number, events: ConnectionEvents = NO_EVENTS): Promise<NodeConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${address}${CLIENT_SOCKET_PATH}`, { handshakeTimeout: timeoutMs, perMessageDeflate: false, generateMask: zeroMask });
      socket.binaryType = 'nodebuffer';
      socket.once('open', () => resolve(new NodeConnection(address, socket, events)));
      socket.once('error', (error) => reject(new QuorumqError('UNAVAILABLE', `cannot reach ${address}: ${error.message}`, error)));
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  request(request: SocketRequest, timeoutMs: number): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(new QuorumqError('UNAVAILABLE', `connection to ${this.address} is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new QuorumqError('TIMEOUT', `no answer from ${this.address} within ${timeoutMs} ms; the outcome is unknown`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      coalesceWrites(this.socket);
      this.socket.send(encode({ ...request, id }));
    });
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    this.failAll(new QuorumqError('UNAVAILABLE', 'the client was closed'));
  }

  private checkAlive(): void {
    if (Date.now() - this.lastHeard > SILENT_FOR_MS_MAX) {
      this.socket.terminate();
      return;
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  private onFrame(data: Buffer): void {
    let frame: ReplyFrame | PushFrame;
    try {
      frame = decode(data) as ReplyFrame | PushFrame;
    } catch {
      this.socket.terminate();
      return;
    }
    if ('push' in frame) {
      // A subscribe reply resolves a promise whose awaiting code runs in later microtasks; a push
      // right behind it in the same read waits for the next turn, once that code has run.
      setImmediate(() => this.events.onPush(this, frame));
      return;
    }
    this.onReply(frame);
  }

  private onReply(reply: ReplyFrame): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    clearTimeout(waiting.timer);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(new QuorumqError(reply.error.code, reply.error.message));
  }

  private failAll(error: QuorumqError): void {
    this.closed = true;
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }
}
