import { WebSocket, WebSocketServer } from 'ws';
import { decode, encode } from '../../../src/shared/codec.ts';
import type { ClientFrame, ErrorBody, PushFrame } from '../../../src/shared/index.ts';

/** What an answer returns to send an error reply instead of a result. */
export class Refusal {
  constructor(readonly error: ErrorBody) {}
}

/** Answers one request frame: a result, or a `Refusal` to send back instead. */
export type Answer = (frame: ClientFrame) => unknown;

/**
 * A stand-in for a node's WebSocket endpoint, in this process: it records every frame the SDK
 * sends, answers with `answer`, and pushes or drops connections when a test says so.
 */
export class FakeNode {
  readonly frames: ClientFrame[] = [];
  private readonly sockets = new Set<WebSocket>();
  /** A paused node keeps its connections open and answers nothing, not even pings. */
  private paused = false;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly answer: Answer,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('ping', (data: Buffer) => {
        if (!this.paused) socket.pong(data);
      });
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('message', (data: Buffer) => this.onFrame(socket, decode(data) as ClientFrame));
    });
  }

  static async start(answer: Answer): Promise<FakeNode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws', autoPong: false });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new FakeNode(server, answer);
  }

  get address(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    return `127.0.0.1:${address.port}`;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  framesOf<Op extends ClientFrame['op']>(op: Op): Extract<ClientFrame, { op: Op }>[] {
    return this.frames.filter((frame): frame is Extract<ClientFrame, { op: Op }> => frame.op === op);
  }

  push(frame: PushFrame): void {
    for (const socket of this.sockets) socket.send(encode(frame));
  }

  /** Goes silent, as a node stopped with SIGSTOP does. */
  pause(): void {
    this.paused = true;
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onFrame(socket: WebSocket, frame: ClientFrame): void {
    if (this.paused) return;
    this.frames.push(frame);
    const answer = this.answer(frame);
    socket.send(encode(answer instanceof Refusal ? { id: frame.id, ok: false, error: answer.error } : { id: frame.id, ok: true, result: answer }));
  }
}
