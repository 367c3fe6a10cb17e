import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { decode, encode } from '../../src/shared/codec.ts';
import { PEER_SOCKET_PATH } from '../../src/shared/index.ts';
import { ClusterKeys } from '../../src/transport/cluster-keys.ts';
import type { PeerFrame } from '../../src/transport/peer-frames.ts';
import { DialerHandshake } from '../../src/transport/peer-handshake.ts';

export interface RawPeerOptions {
  /** The id this peer claims. */
  readonly id: string;
  /** The address it claims to be reachable at. */
  readonly address: string;
  /** A cluster key (the right one, a wrong one, or none). */
  readonly key?: string;
  /** With TLS: the CA to trust, and a client certificate (or none, to be refused). */
  readonly tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/**
 * A peer link opened by a test, speaking the real handshake (or not): what a stranger on the
 * network, or a faulty member, can send a node. Frames the node sends back are kept in `received`.
 */
export class RawPeer {
  readonly received: unknown[] = [];
  readonly closed: Promise<Closed>;

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data: Buffer) => {
      try {
        this.received.push(decode(data));
      } catch {
        this.received.push(data);
      }
    });
    socket.on('error', () => undefined);
  }

  /** Opens the WebSocket only: nothing is said yet. */
  static async open(nodeAddress: string, options: Pick<RawPeerOptions, 'tls'> = {}): Promise<RawPeer> {
    const scheme = options.tls === undefined ? 'ws' : 'wss';
    const socket = new WebSocket(`${scheme}://${nodeAddress}${PEER_SOCKET_PATH}`, {
      perMessageDeflate: false,
      handshakeTimeout: 5_000,
      ...(options.tls === undefined ? {} : { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key }),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused with ${response.statusCode}`)));
    });
    return new RawPeer(socket);
  }

  /**
   * Opens a link and runs the dialer's side of the handshake with `options.key` (none: no proof).
   * Resolves `accepted` once the node has answered and our proof is sent (the node may still close
   * the link if it rejects that proof: watch `closed`), or `refused` when the node closed it first.
   */
  static async dial(nodeAddress: string, options: RawPeerOptions): Promise<{ peer: RawPeer; outcome: 'accepted' | 'refused' }> {
    const peer = await RawPeer.open(nodeAddress, options);
    const keys = options.key === undefined ? undefined : ClusterKeys.parse(options.key, 'test key');
    const handshake = new DialerHandshake(keys, { id: options.id, address: options.address, founders: null });
    peer.send(handshake.hello());
    const answer = await Promise.race([peer.next(), peer.closed.then(() => undefined)]);
    if (answer === undefined) return { peer, outcome: 'refused' };
    const step = handshake.onFrame(answer as PeerFrame);
    if (step.kind === 'sendThenAccept') peer.send(step.frame);
    // A wrong key fails to check the node's proof: go on with a made-up proof, as a liar would.
    else if (step.kind === 'refuse' && keys !== undefined) peer.send({ t: 'auth', proof: randomBytes(32) });
    // Without a key of our own there is no proof to send: go on, as a stranger would.
    return { peer, outcome: 'accepted' };
  }

  send(frame: unknown): void {
    this.socket.send(encode(frame));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** The next frame the node sends. */
  async next(timeoutMs = 5_000): Promise<unknown> {
    const seen = this.received.length;
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === seen) {
      if (Date.now() > deadline || this.socket.readyState === WebSocket.CLOSED) throw new Error('no frame from the node');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received[seen];
  }

  close(): void {
    this.socket.terminate();
  }
}
