import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import type { NodeId } from '../raft/index.ts';
import { decodeChecked, encode } from '../shared/codec.ts';
import { assert } from '../shared/index.ts';
import type { ClusterKeys } from './cluster-keys.ts';
import type { FaultFilter } from './fault-filter.ts';
import { OutboundLink, type PeerTls } from './outbound-link.ts';
import { isPeerAddress } from './peer-address.ts';
import { isPeerFrame, PEER_FRAME_DEPTH_MAX, type PeerFrame, type PeerIdentity, type PeerRelease } from './peer-frames.ts';
import { AcceptorHandshake, DialerHandshake, type HandshakeStep } from './peer-handshake.ts';

export interface PeerTransportOptions {
  readonly self: () => PeerIdentity;
  readonly frameBytesMax: number;
  readonly sendBufferBytesMax: number;
  readonly faults: FaultFilter | undefined;
  /** The cluster key: without it peers take each other's word (loopback and trusted networks only). */
  readonly keys: ClusterKeys | undefined;
  /** With TLS every link is mutual TLS against the cluster's CA: an inbound link without a valid client certificate is refused. */
  readonly tls: PeerTls | undefined;
  /** Peer links accepted at once, authenticated or not; beyond it new ones are refused. */
  readonly inboundLinksMax: number;
  /** A link that has not finished its handshake after this long is closed. */
  readonly handshakeTimeoutMs: number;
  /**
   * Why `identity` may not have a link, from what the node knows beyond this transport (gossip
   * holds the id alive at another address, say); undefined when nothing stands against it.
   */
  readonly claimConflict: (identity: PeerIdentity) => string | undefined;
  readonly onFrame: (from: NodeId, frame: PeerFrame) => void;
  /** True while the node has more input queued than it wants: inbound sockets stop being read. */
  readonly isCongested: () => boolean;
  readonly onPeer: (identity: PeerIdentity) => void;
  readonly onLinkDown: (peer: NodeId) => void;
  /** A link closed before it was trusted: for the log and the metrics. */
  readonly onRefused: (reason: string) => void;
}

/**
 * While congested, how often the node looks whether it can read its paused sockets again. A look is
 * one call to `isCongested`, which is cheap; the peers behind paused sockets wait on TCP flow control
 * until the next one, so it comes well within a Raft tick (50 ms by default) and their heartbeats
 * are held hardly longer than the congestion itself.
 */
const PAUSED_RECHECK_MS = 5;

interface InboundLink {
  readonly socket: WebSocket;
  readonly address: string;
}

/**
 * Peer links: each node sends over its own outbound socket to a peer and receives on the sockets
 * peers opened to it, so no link is shared and no connection race needs resolving. Every link
 * begins with the handshake (`peer-handshake.ts`); until it is done no frame reaches the node, and
 * an id belongs to the one authenticated link that claimed it first while that link lives.
 */
export class PeerTransport {
  private readonly server: WebSocketServer;
  private readonly links = new Map<string, OutboundLink>();
  private readonly dialing = new Map<OutboundLink, DialerHandshake>();
  private readonly idByAddress = new Map<string, NodeId>();
  private readonly identities = new Map<NodeId, PeerIdentity>();
  private readonly inbound = new Set<WebSocket>();
  private readonly inboundById = new Map<NodeId, InboundLink>();
  private readonly paused = new Set<WebSocket>();
  private resumeTimer: NodeJS.Timeout | undefined;
  malformedFrames = 0;
  /** Links closed before they were trusted: failed handshakes, refused ids, missing certificates. */
  refusedLinks = 0;
  /** Times an inbound socket was paused because the node was congested. */
  pauses = 0;

  constructor(private readonly options: PeerTransportOptions) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.frameBytesMax, perMessageDeflate: false });
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.options.tls !== undefined && (socket as TLSSocket).authorized !== true) {
      this.refuse(`a peer link from ${request.socket.remoteAddress ?? 'unknown'} came without a certificate signed by the cluster's CA`);
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    if (this.inbound.size >= this.options.inboundLinksMax) {
      this.refuse(`peer links are at their limit of ${this.options.inboundLinksMax}`);
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  /** Keeps an outbound link to `address` (a seed, or an address an authenticated peer gave). */
  connect(address: string): void {
    if (address === this.options.self().address || this.links.has(address)) return;
    if (!isPeerAddress(address)) {
      this.refuse(`not dialing ${JSON.stringify(address.slice(0, 300))}: not a host:port address`);
      return;
    }
    const link = new OutboundLink({
      address,
      tls: this.options.tls,
      frameBytesMax: this.options.frameBytesMax,
      sendBufferBytesMax: this.options.sendBufferBytesMax,
      onOpen: (opened) => {
        const handshake = new DialerHandshake(this.options.keys, this.options.self());
        this.dialing.set(opened, handshake);
        opened.sendHandshake(encode(handshake.hello()));
      },
      onMessage: (opened, data) => this.onLinkMessage(opened, data),
      onClose: (closed) => {
        const peer = this.idByAddress.get(closed.address);
        if (peer !== undefined) this.options.onLinkDown(peer);
      },
    });
    this.links.set(address, link);
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
    const handshake = new AcceptorHandshake(this.options.keys, this.options.self());
    let peer: NodeId | undefined;
    let timedOut = false;
    const deadline = setTimeout(() => {
      if (peer !== undefined) return;
      timedOut = true;
      socket.terminate();
    }, this.options.handshakeTimeoutMs);
    deadline.unref();
    socket.on('close', () => {
      clearTimeout(deadline);
      // A dialer that checks our proof and finds another key hangs up without a word: this side
      // must count and log that too, or a node with the wrong key would show only in its own log.
      const unproven = peer === undefined ? handshake.unproven : undefined;
      if (unproven !== undefined) this.refuse(`peer ${unproven.id} at ${unproven.address} left the handshake unfinished (does it hold another cluster key?)`);
      else if (timedOut) this.refuse('a peer link said nothing within the handshake timeout');
      this.inbound.delete(socket);
      this.paused.delete(socket);
      if (peer !== undefined && this.inboundById.get(peer)?.socket === socket) this.inboundById.delete(peer);
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer) => {
      const frame = this.decodeFrame(data);
      if (frame === undefined) {
        socket.close(1002, 'malformed frame');
        return;
      }
      if (peer === undefined) {
        const accepted = this.onAcceptorStep(socket, handshake.onFrame(frame));
        if (accepted !== undefined) {
          peer = accepted.id;
          clearTimeout(deadline);
        }
        return;
      }
      if (frame.t === 'hello' || frame.t === 'helloAck' || frame.t === 'auth') return;
      if (this.options.faults?.dropsReceiveFrom(peer) === true) return;
      this.options.onFrame(peer, frame);
      if (this.options.isCongested()) this.pause(socket);
    });
  }

  /** Carries out one step of an inbound handshake; the peer once the link is its. */
  private onAcceptorStep(socket: WebSocket, step: HandshakeStep): PeerIdentity | undefined {
    if (step.kind === 'refuse') {
      this.refuse(step.reason);
      socket.close(1008, 'peer authentication failed');
      return undefined;
    }
    if (step.kind === 'send' || step.kind === 'sendThenAccept') socket.send(encode(step.frame));
    if (step.kind === 'send') return undefined;
    const conflict = this.inboundConflict(step.peer, socket);
    if (conflict !== undefined) {
      this.refuse(conflict);
      socket.close(1008, 'peer id in use');
      return undefined;
    }
    const previous = this.inboundById.get(step.peer.id);
    // The same member from the same address: it restarted, and its old link is a dead one.
    if (previous !== undefined && previous.socket !== socket) previous.socket.terminate();
    this.inboundById.set(step.peer.id, { socket, address: step.peer.address });
    this.learn(step.peer);
    return step.peer;
  }

  private inboundConflict(peer: PeerIdentity, socket: WebSocket): string | undefined {
    const held = this.inboundById.get(peer.id);
    if (held !== undefined && held.socket !== socket && held.address !== peer.address && held.socket.readyState === WebSocket.OPEN) {
      return `peer id ${peer.id} is already linked from ${held.address}; a link from ${peer.address} claiming it is refused`;
    }
    return this.options.claimConflict(peer);
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
    }, PAUSED_RECHECK_MS);
  }

  /** An outbound link only ever hears the acceptor's side of the handshake. */
  private onLinkMessage(link: OutboundLink, data: Uint8Array): void {
    const handshake = this.dialing.get(link);
    if (handshake === undefined) return;
    // Paired with `markAuthenticated` below: nothing but its own finished handshake makes a connection trusted.
    assert(!link.isOpen, 'an outbound link is trusted only once its handshake has finished');
    this.dialing.delete(link);
    const frame = this.decodeFrame(data);
    if (frame === undefined) {
      link.drop();
      return;
    }
    const step = handshake.onFrame(frame);
    if (step.kind === 'refuse' || step.kind === 'send') {
      this.refuse(step.kind === 'refuse' ? step.reason : 'unexpected handshake step');
      link.drop();
      return;
    }
    if (step.peer.id === this.options.self().id) {
      // A seed that turns out to be this very node under another address.
      link.close();
      this.links.delete(link.address);
      return;
    }
    const conflict = this.outboundConflict(step.peer, link);
    if (conflict !== undefined) {
      this.refuse(conflict);
      link.drop();
      return;
    }
    if (step.kind === 'sendThenAccept') link.sendHandshake(encode(step.frame));
    link.markAuthenticated();
    this.idByAddress.set(link.address, step.peer.id);
    this.learn(step.peer);
  }

  private outboundConflict(peer: PeerIdentity, link: OutboundLink): string | undefined {
    const known = this.identities.get(peer.id);
    if (known !== undefined && known.address !== link.address && this.links.get(known.address)?.isOpen === true) {
      return `the node at ${link.address} claims id ${peer.id}, which is linked at ${known.address}`;
    }
    return undefined;
  }

  private learn(identity: PeerIdentity): void {
    // Before anything is learnt: the acceptor's handshake refuses a peer claiming this node's id, and
    // a dial that reaches this node itself is closed (see `onLinkMessage`).
    assert(identity.id !== this.options.self().id, 'this node never links to itself');
    const known = this.identities.get(identity.id);
    const release = identity.release === undefined ? {} : { release: identity.release };
    this.identities.set(identity.id, { id: identity.id, address: identity.address, founders: identity.founders ?? null, ...release });
    this.idByAddress.set(identity.address, identity.id);
    this.connect(identity.address);
    if (known === undefined || known.address !== identity.address || known.founders !== identity.founders || !sameRelease(known.release, identity.release)) {
      this.options.onPeer(this.identities.get(identity.id)!);
    }
  }

  private refuse(reason: string): void {
    this.refusedLinks++;
    this.options.onRefused(reason);
  }

  private decodeFrame(data: Uint8Array): PeerFrame | undefined {
    try {
      const frame = decodeChecked(data, { depthMax: PEER_FRAME_DEPTH_MAX });
      if (isPeerFrame(frame)) return frame;
    } catch {
      // Counted below: a peer that cannot speak the protocol is cut off, never trusted.
    }
    this.malformedFrames++;
    return undefined;
  }
}

function sameRelease(a: PeerRelease | undefined, b: PeerRelease | undefined): boolean {
  return a?.protocolMax === b?.protocolMax && a?.clusterVersionMax === b?.clusterVersionMax && a?.version === b?.version;
}
