import WebSocket from 'ws';
import { PEER_SOCKET_PATH } from '../shared/index.ts';
import { coalesceWrites } from './write-coalescing.ts';
import { zeroMask } from '../shared/unmasked-frames.ts';

export interface OutboundLinkOptions {
  readonly address: string;
  readonly frameBytesMax: number;
  /** Above this many unsent bytes, frames are dropped: Raft resends, memory must not grow. */
  readonly sendBufferBytesMax: number;
  readonly onOpen: (link: OutboundLink) => void;
  readonly onMessage: (link: OutboundLink, data: Uint8Array) => void;
  readonly onClose: (link: OutboundLink) => void;
}

const RECONNECT_DELAY_MS_MIN = 50;
const RECONNECT_DELAY_MS_MAX = 2000;

/** One outbound WebSocket to a peer address, reconnected with jittered exponential backoff. */
export class OutboundLink {
  private socket: WebSocket | undefined;
  private open = false;
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

  get isOpen(): boolean {
    return this.open;
  }

  send(bytes: Uint8Array): boolean {
    const socket = this.socket;
    if (!this.open || socket === undefined || socket.bufferedAmount > this.options.sendBufferBytesMax) {
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
    const socket = new WebSocket(`ws://${this.options.address}${PEER_SOCKET_PATH}`, {
      maxPayload: this.options.frameBytesMax,
      perMessageDeflate: false,
      handshakeTimeout: 2000,
      generateMask: zeroMask,
    });
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => {
      this.open = true;
      this.failures = 0;
      this.options.onOpen(this);
    });
    socket.on('message', (data: Buffer) => this.options.onMessage(this, data));
    socket.on('error', () => {
      // 'close' follows every 'error'; reconnecting happens there.
    });
    socket.on('close', () => {
      const wasOpen = this.open;
      this.open = false;
      if (wasOpen) this.options.onClose(this);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.failures++;
    const ceiling = Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN * 2 ** Math.min(this.failures, 10));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
