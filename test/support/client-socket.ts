import WebSocket, { type ClientOptions } from 'ws';
import { decode, encode } from '../../src/shared/codec.ts';

/** How a WebSocket upgrade ended: an open socket, or the node's refusal with its status and body. */
export type UpgradeOutcome =
  | { readonly kind: 'open'; readonly socket: ClientSocket }
  | { readonly kind: 'refused'; readonly status: number; readonly body: string };

/** How long a test waits for an upgrade or a reply before it fails (never a timing assertion). */
const WAIT_MS = 15_000;

/**
 * A raw client WebSocket opened by a test (to `/ws`, or any other upgrade path), speaking msgpack
 * request frames without the SDK: what a hand-written client, or a hostile one, sends a node.
 */
export class ClientSocket {
  private readonly replies = new Map<number, (reply: any) => void>();
  readonly closed: Promise<number>;

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.on('message', (data: Buffer) => {
      const reply = decode(data) as { id?: number };
      if (typeof reply.id !== 'number') return;
      this.replies.get(reply.id)?.(reply);
      this.replies.delete(reply.id);
    });
    socket.on('error', () => undefined);
  }

  /** Opens `url` with `options` (headers, origin, TLS) and reports whether the node took the upgrade. */
  static upgrade(url: string, options: ClientOptions = {}): Promise<UpgradeOutcome> {
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: WAIT_MS, ...options });
    socket.binaryType = 'nodebuffer';
    return new Promise((resolve, reject) => {
      let refused = false;
      socket.once('open', () => resolve({ kind: 'open', socket: new ClientSocket(socket) }));
      // With this listener ws hands the refused response to us instead of failing with an error.
      socket.once('unexpected-response', (_request, response) => {
        refused = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = () => {
          socket.terminate();
          resolve({ kind: 'refused', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        };
        response.once('end', done);
        response.once('close', done);
        response.once('error', done);
      });
      socket.on('error', (error: Error) => {
        if (!refused) reject(error);
      });
    });
  }

  /** Opens `url` and fails the test unless the node took the upgrade. */
  static async open(url: string, options: ClientOptions = {}): Promise<ClientSocket> {
    const outcome = await ClientSocket.upgrade(url, options);
    if (outcome.kind === 'refused') throw new Error(`upgrade to ${url} refused with ${outcome.status}: ${outcome.body}`);
    return outcome.socket;
  }

  /** Sends one request frame (it must carry a numeric `id`) and resolves its reply frame. */
  request(frame: { readonly id: number } & Record<string, unknown>): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(frame.id);
        reject(new Error(`no reply to frame ${frame.id} (${String(frame.op)}) within ${WAIT_MS} ms`));
      }, WAIT_MS);
      this.replies.set(frame.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.send(encode(frame));
    });
  }

  close(): void {
    this.socket.terminate();
  }
}
