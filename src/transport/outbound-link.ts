import WebSocket from 'ws';
import { assert, PEER_SOCKET_PATH } from '../shared/index.ts';
import { zeroMask } from '../shared/unmasked-frames.ts';
import { coalesceWrites } from './write-coalescing.ts';

/** TLS for peer links: the CA that signs every node's certificate, and this node's own (mutual TLS). */
export interface PeerTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface OutboundLinkOptions {
  readonly address: string;
  readonly tls: PeerTls | undefined;
  readonly frameBytesMax: number;
  /** Above this many unsent bytes, frames are dropped: Raft resends, memory must not grow. */
  readonly sendBufferBytesMax: number;
  readonly onOpen: (link: OutboundLink) => void;
  readonly onMessage: (link: OutboundLink, data: Uint8Array) => void;
  readonly onClose: (link: OutboundLink) => void;
}

/**
 * Redial backoff: the ceiling starts at twice the minimum and doubles with each failed attempt up to
 * the maximum, and each delay is drawn between half the ceiling and the ceiling. A peer back from a
 * restart is found again within a fraction of an election, while one that stays down costs one
 * attempt every 1-2 s at most.
 */
const RECONNECT_DELAY_MS_MIN = 50;
const RECONNECT_DELAY_MS_MAX = 2000;
/** Failures counted toward the backoff: past a few the ceiling is the maximum anyway; this keeps the power finite. */
const BACKOFF_DOUBLINGS_MAX = 10;
/**
 * How long a dial may take to open its WebSocket (TCP, TLS, the HTTP upgrade). A reachable peer
 * answers in milliseconds; a dial to an address that swallows packets is dropped after this and
 * retried under the backoff, instead of holding the link for the system's connect timeout (minutes).
 */
const OPENING_HANDSHAKE_TIMEOUT_MS = 2000;

/**
 * One outbound WebSocket to a peer address, reconnected with jittered exponential backoff. Once
 * open, it carries only the handshake (`sendHandshake`) until the transport marks it authenticated;
 * every reconnect starts unauthenticated again.
 */
export class OutboundLink {
  private socket: WebSocket | undefined;
  private open = false;
  private authenticated = false;
  private closed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(private readonly options: OutboundLinkOptions) {
    this.connect();
  }

  get address(): string {
    return this.options.address;
  }

  /** Open and authenticated: frames may flow. */
  get isOpen(): boolean {
    return this.open && this.authenticated;
  }

  markAuthenticated(): void {
    if (!this.open) return;
    this.authenticated = true;
    // Backoff starts over only here: a peer that accepts connections and then fails the handshake
    // is dialed ever more slowly, not every 50 ms.
    this.failures = 0;
  }

  /** For the handshake's own frames, before the link is authenticated. */
  sendHandshake(bytes: Uint8Array): void {
    if (this.open) this.socket?.send(bytes, { binary: true });
  }

  /** Drops this connection (a failed handshake); it is dialed again after the usual backoff. */
  drop(): void {
    this.socket?.terminate();
  }

  send(bytes: Uint8Array): boolean {
    assert(this.open || !this.authenticated, 'only an open link is authenticated');
    const socket = this.socket;
    if (!this.isOpen || socket === undefined || socket.bufferedAmount > this.options.sendBufferBytesMax) {
      this.dropped++;
      return false;
    }
    coalesceWrites(socket);
    socket.send(bytes, { binary: true });
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
  }

  private connect(): void {
    // One connection at a time, and every one starts unauthenticated: only its own handshake makes it trusted.
    assert(!this.closed && !this.open && !this.authenticated, 'a link dials only while it is kept, and each connection starts untrusted');
    assert(this.socket === undefined || this.socket.readyState === WebSocket.CLOSED, 'a link redials only once its last connection is closed');
    const tls = this.options.tls;
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://${this.options.address}${PEER_SOCKET_PATH}`, {
        maxPayload: this.options.frameBytesMax,
        perMessageDeflate: false,
        handshakeTimeout: OPENING_HANDSHAKE_TIMEOUT_MS,
        generateMask: zeroMask,
        ...(tls === undefined ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key }),
      });
    } catch {
      // The address was checked before this link was made; should the library still refuse it, the
      // link stays closed for good rather than take the node down.
      this.closed = true;
      return;
    }
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => {
      this.open = true;
      this.options.onOpen(this);
    });
    socket.on('message', (data: Buffer) => this.options.onMessage(this, data));
    socket.on('error', () => {
      // 'close' follows every 'error'; reconnecting happens there.
    });
    socket.on('close', () => {
      const wasOpen = this.open && this.authenticated;
      this.open = false;
      this.authenticated = false;
      if (wasOpen) this.options.onClose(this);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.failures++;
    const ceiling = Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN * 2 ** Math.min(this.failures, BACKOFF_DOUBLINGS_MAX));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    assert(delay >= RECONNECT_DELAY_MS_MIN && delay <= RECONNECT_DELAY_MS_MAX, 'a redial waits within the backoff bounds');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
