import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { NodeId } from '../raft/index.ts';
import { decode, encode } from '../shared/codec.ts';
import type { FaultFilter } from './fault-filter.ts';
import { OutboundLink } from './outbound-link.ts';
import { isPeerFrame, PEER_PROTOCOL_VERSION, type PeerFrame, type PeerIdentity } from './peer-frames.ts';

export interface PeerTransportOptions {
  readonly self: () => PeerIdentity;
  readonly frameBytesMax: number;
  readonly sendBufferBytesMax: number;
  readonly faults: FaultFilter | undefined;
  readonly onFrame: (from: NodeId, frame: PeerFrame) => void;
  /** True while the node has more input queued than it wants: inbound sockets stop being read. */
  readonly isCongested: () => boolean;
  readonly onPeer: (identity: PeerIdentity) => void;
  readonly onLinkDown: (peer: NodeId) => void;
}

/**
 * Peer links: each node sends over its own outbound socket to a peer and receives on the sockets
 * peers opened to it, so no link is shared and no connection race needs resolving. A peer is
 * known by id once it has said hello; frames from a socket that has not are refused.
 */
export class PeerTransport {
  private readonly server: WebSocketServer;
  private readonly links = new Map<string, OutboundLink>();
  private readonly idByAddress = new Map<string, NodeId>();
  private readonly identities = new Map<NodeId, PeerIdentity>();
  private readonly inbound = new Set<WebSocket>();
  private readonly paused = new Set<WebSocket>();
  private resumeTimer: NodeJS.Timeout | undefined;
  malformedFrames = 0;
  /** Times an inbound socket was paused because the node was congested. */
  pauses = 0;

  constructor(private readonly options: PeerTransportOptions) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.frameBytesMax, perMessageDeflate: false });
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  /** Keeps an outbound link to `address` (a seed, or a peer that said hello). */
  connect(address: string): void {
    if (address === this.options.self().address || this.links.has(address)) return;
    this.links.set(
      address,
      new OutboundLink({
        address,
        frameBytesMax: this.options.frameBytesMax,
        sendBufferBytesMax: this.options.sendBufferBytesMax,
        onOpen: (link) => link.send(encode({ t: 'hello', v: PEER_PROTOCOL_VERSION, ...this.options.self() })),
        onMessage: (link, data) => this.onLinkMessage(link, data),
        onClose: (link) => {
          const peer = this.idByAddress.get(link.address);
          if (peer !== undefined) this.options.onLinkDown(peer);
        },
      }),
    );
  }

  send(to: NodeId, frame: PeerFrame): boolean {
    if (this.options.faults?.dropsSendTo(to) === true) return false;
    const address = this.identities.get(to)?.address;
    const link = address === undefined ? undefined : this.links.get(address);
    if (link === undefined) return false;
    return link.send(encode(frame));
  }

  isConnected(peer: NodeId): boolean {
    const address = this.identities.get(peer)?.address;
    return address !== undefined && this.links.get(address)?.isOpen === true;
  }

  peers(): PeerIdentity[] {
    return [...this.identities.values()];
  }

  droppedFrames(): number {
    let dropped = 0;
    for (const link of this.links.values()) dropped += link.dropped;
    return dropped;
  }

  /**
   * Closes the links peers opened to this node: each peer sees its link close at once (a leader it
   * followed is then taken as gone, see `Raft.leaderUnreachable`) and reconnects by itself.
   */
  dropInbound(): void {
    for (const socket of this.inbound) socket.terminate();
  }

  close(): void {
    clearInterval(this.resumeTimer);
    for (const link of this.links.values()) link.close();
    for (const socket of this.inbound) socket.terminate();
    this.server.close();
  }

  private accept(socket: WebSocket): void {
    this.inbound.add(socket);
    socket.binaryType = 'nodebuffer';
    let peer: NodeId | undefined;
    socket.on('close', () => this.inbound.delete(socket));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer) => {
      const frame = this.decodeFrame(data);
      if (frame === undefined) {
        socket.close(1002, 'malformed frame');
        return;
      }
      if (peer === undefined) {
        if (frame.t !== 'hello') {
          socket.close(1002, 'hello first');
          return;
        }
        peer = frame.id;
        this.learn(frame);
        socket.send(encode({ t: 'helloAck', v: PEER_PROTOCOL_VERSION, ...this.options.self() }));
        return;
      }
      if (this.options.faults?.dropsReceiveFrom(peer) === true) return;
      this.options.onFrame(peer, frame);
      if (this.options.isCongested()) this.pause(socket);
    });
  }

  /** Backpressure: TCP flow control pushes back on the peer instead of our memory growing. */
  private pause(socket: WebSocket): void {
    if (this.paused.has(socket)) return;
    socket.pause();
    this.paused.add(socket);
    this.pauses++;
    this.resumeTimer ??= setInterval(() => {
      if (this.options.isCongested()) return;
      for (const paused of this.paused) paused.resume();
      this.paused.clear();
      clearInterval(this.resumeTimer);
      this.resumeTimer = undefined;
    }, 5);
  }

  private onLinkMessage(link: OutboundLink, data: Uint8Array): void {
    const frame = this.decodeFrame(data);
    if (frame?.t !== 'helloAck') return;
    if (frame.id === this.options.self().id) {
      // A seed that turns out to be this very node under another address.
      link.close();
      this.links.delete(link.address);
      return;
    }
    this.idByAddress.set(link.address, frame.id);
    this.learn(frame);
  }

  private learn(identity: PeerIdentity): void {
    const known = this.identities.get(identity.id);
    this.identities.set(identity.id, { id: identity.id, address: identity.address, founders: identity.founders ?? null });
    this.idByAddress.set(identity.address, identity.id);
    this.connect(identity.address);
    if (known === undefined || known.address !== identity.address || known.founders !== identity.founders) {
      this.options.onPeer(this.identities.get(identity.id)!);
    }
  }

  private decodeFrame(data: Uint8Array): PeerFrame | undefined {
    try {
      const frame = decode(data);
      if (isPeerFrame(frame)) return frame;
    } catch {
      // Counted below: a peer that cannot speak the protocol is cut off, never trusted.
    }
    this.malformedFrames++;
    return undefined;
  }
}
