import { connect, type Socket } from 'node:net';

/**
 * HTTP below any client library: what a hostile client can put on the wire (a request line no
 * client would write, a body that never ends, one connection too many), and what came back.
 */

export interface RawAnswer {
  /** Everything the node sent before the socket closed or the wait ended. */
  readonly text: string;
  /** The status of the first response line, if one arrived. */
  readonly status: number | undefined;
  /** True when the node closed the connection (or it failed) before the wait ended. */
  readonly closed: boolean;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export function statusOf(text: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Opens a TCP connection to `address` and resolves once it is established (or rejects). */
export function openTcp(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(splitAddress(address));
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Sends `bytes` on a new connection and collects what comes back until a full response arrived
 * (`untilResponse`), the node closes the socket, or `waitMs` passes; the socket is then destroyed.
 */
export async function rawExchange(address: string, bytes: string | Buffer, waitMs: number, untilResponse = true): Promise<RawAnswer> {
  const socket = await openTcp(address);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ text, status: statusOf(text), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (untilResponse && responseComplete(Buffer.concat(chunks).toString('utf8'))) finish(false);
    });
    socket.once('close', () => finish(true));
    socket.write(bytes);
  });
}

/** A response whose headers ended and whose declared body (if any) arrived in full. */
function responseComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  if (length === null) return true;
  return Buffer.byteLength(text.slice(end + 4)) >= Number(length[1]);
}

/**
 * One keep-alive connection that asks `GET /health` and waits for the answer: proof that the node
 * admitted the connection and serves it. Resolves the open socket, or undefined when the node
 * closed it (or said nothing within `waitMs`).
 */
export async function admittedConnection(address: string, waitMs: number): Promise<Socket | undefined> {
  const socket = await openTcp(address).catch(() => undefined);
  if (socket === undefined) return undefined;
  const answered = await new Promise<boolean>((resolve) => {
    let text = '';
    const timer = setTimeout(() => done(false), waitMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (responseComplete(text)) done(statusOf(text) !== undefined);
    };
    const onClose = () => done(false);
    function done(value: boolean) {
      clearTimeout(timer);
      socket!.off('data', onData);
      socket!.off('close', onClose);
      resolve(value);
    }
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET /health HTTP/1.1\r\nHost: ${address}\r\nConnection: keep-alive\r\n\r\n`);
  });
  if (answered) return socket;
  socket.destroy();
  return undefined;
}

export interface UploadOutcome {
  /** `sentAll`: every byte meant was written and the connection is still open, holding them. */
  readonly kind: 'sentAll' | 'answered' | 'closed';
  readonly status: number | undefined;
  readonly text: string;
  readonly sentBytes: number;
}

/**
 * A POST that declares `declaredBytes` of body and sends `sendBytes` of it (never all) in
 * `chunkBytes` pieces, `pauseMs` apart: a slow client that makes the node hold its body. Settles
 * when it has sent everything it meant to, or the node answered or closed first. The connection
 * stays open until `close()`.
 */
export class SlowUpload {
  readonly outcome: Promise<UploadOutcome>;
  private readonly chunks: Buffer[] = [];
  private socket: Socket | undefined;
  private stopped = false;

  constructor(address: string, path: string, options: { declaredBytes: number; sendBytes: number; chunkBytes: number; pauseMs: number }) {
    this.outcome = this.run(address, path, options);
  }

  private async run(
    address: string,
    path: string,
    options: { declaredBytes: number; sendBytes: number; chunkBytes: number; pauseMs: number },
  ): Promise<UploadOutcome> {
    const socket = await openTcp(address);
    this.socket = socket;
    let closed = false;
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.once('close', () => {
      closed = true;
    });
    const text = () => Buffer.concat(this.chunks).toString('utf8');
    const outcome = (kind: UploadOutcome['kind'], sentBytes: number): UploadOutcome => ({ kind, status: statusOf(text()), text: text(), sentBytes });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${address}\r\nContent-Type: application/json\r\nContent-Length: ${options.declaredBytes}\r\n\r\n`);
    // A JSON string body, never finished: `{"body":"xxxx...`
    const opening = Buffer.from('{"body":"');
    let sent = 0;
    while (sent < options.sendBytes) {
      if (this.stopped || closed) return outcome('closed', sent);
      if (this.chunks.length > 0) return outcome('answered', sent);
      const size = Math.min(options.chunkBytes, options.sendBytes - sent);
      const chunk = sent === 0 ? Buffer.concat([opening, Buffer.alloc(size - opening.length, 0x78)]) : Buffer.alloc(size, 0x78);
      const flushed = socket.write(chunk);
      sent += size;
      if (!flushed)
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          socket.once('drain', done);
          socket.once('close', done);
        });
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
    if (closed) return outcome('closed', sent);
    if (this.chunks.length > 0) return outcome('answered', sent);
    return outcome('sentAll', sent);
  }

  /** What the node has sent on this connection so far. */
  get answer(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  close(): void {
    this.stopped = true;
    this.socket?.destroy();
  }
}
