import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { decode, encode } from '../../src/shared/codec.ts';
import { PEER_SOCKET_PATH } from '../../src/shared/index.ts';
import { ClusterKeys } from '../../src/transport/cluster-keys.ts';
import type { PeerFrame } from '../../src/transport/peer-frames.ts';
import { AcceptorHandshake } from '../../src/transport/peer-handshake.ts';

/**
 * The listening half of a fake peer. A node sends to a peer over the link it opens itself, to the
 * address the peer claimed in its hello; what a node answers a `RawPeer` (a forwardReply, say)
 * therefore arrives here, not on the RawPeer's own socket. It runs the acceptor's side of the real
 * handshake under `id` with `key` (none: a cluster without a key) and keeps every frame that
 * follows on an authenticated link, with the id of the node that sent it.
 */
export class PeerListener {
  readonly received: { readonly from: string; readonly frame: unknown }[] = [];
  /** Ids of the nodes that opened an authenticated link to this listener. */
  readonly linkedFrom = new Set<string>();
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: WebSocketServer,
    readonly address: string,
  ) {}

  static async start(options: { readonly id: string; readonly key?: string }): Promise<PeerListener> {
    const keys = options.key === undefined ? undefined : ClusterKeys.parse(options.key, 'test key');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: PEER_SOCKET_PATH, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const listener = new PeerListener(server, address);
    server.on('connection', (socket) => listener.accept(socket, new AcceptorHandshake(keys, { id: options.id, address, founders: null })));
    return listener;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, handshake: AcceptorHandshake): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.terminate());
    let peer: string | undefined;
    socket.on('message', (data: Buffer) => {
      let frame: unknown;
      try {
        frame = decode(data);
      } catch {
        return;
      }
      if (peer !== undefined) {
        this.received.push({ from: peer, frame });
        return;
      }
      const step = handshake.onFrame(frame as PeerFrame);
      if (step.kind === 'refuse') {
        socket.close(1008, 'refused');
        return;
      }
      if (step.kind === 'send' || step.kind === 'sendThenAccept') socket.send(encode(step.frame));
      if (step.kind === 'accept' || step.kind === 'sendThenAccept') {
        peer = step.peer.id;
        this.linkedFrom.add(peer);
      }
    });
  }
}
