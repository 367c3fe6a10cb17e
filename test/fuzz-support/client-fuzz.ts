import { connect as tcpConnect } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { decode, decodeChecked, encode } from '../../src/shared/codec.ts';
import { ERROR_CODES } from '../../src/shared/index.ts';
import { hostileFrameBytes } from './hostile-msgpack.ts';
import { hostileValue, opValue, requestFields } from './hostile-values.ts';

/**
 * Client WebSocket frames (docs/protocol.md) as a hostile client sends them, and the checks on
 * what comes back: a reply `{ id, ok, ... }` whose error is never INTERNAL, a push frame, or the
 * connection closed with 1002/1008. Frames that must close their connection are sent on
 * connections of their own, so that they do not cut off the replies owed on the others.
 */

export type ClientFuzzInput =
  /** A frame encoded by our own codec: every op, every field valid or hostile. */
  | { readonly kind: 'request'; readonly node: number; readonly frame: Record<string, unknown> }
  /** A binary frame of bytes no client should send: records, extensions, nesting, garbage. */
  | { readonly kind: 'bytes'; readonly node: number; readonly bytes: Uint8Array }
  /** A text frame (the protocol is binary only). */
  | { readonly kind: 'text'; readonly node: number; readonly text: string }
  /** Bytes on the wire after an upgrade made by hand: WebSocket framing itself broken. */
  | { readonly kind: 'rawWebSocket'; readonly node: number; readonly bytes: Uint8Array };

/** The limits the node applies to client frames (src/server/client-sockets.ts). */
const CLIENT_FRAME_LIMITS = { depthMax: 80, valuesMax: 1_000_000 };

const frameId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.nat({ max: 2 ** 31 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2 ** 53 - 1, 2 ** 53, 1.5, -0, Number.NaN, '1', null, true, [1], undefined) },
  { weight: 1, arbitrary: hostileValue },
);

/** A request frame: `{ id, op, ...fields }`, the fields of the op it names (or of another op). */
export const clientFrame: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    opValue,
    fc.constantFrom(...Object.keys({ enqueue: 1, receive: 1, ack: 1, nack: 1, extend: 1, configure: 1, getMessage: 1, subscribe: 1 })),
    fc.boolean(),
  )
  .chain(([op, fieldsOf, ownFields]) =>
    fc.tuple(frameId, requestFields(typeof op === 'string' && ownFields ? op : fieldsOf)).map(([id, fields]) => {
      const frame: Record<string, unknown> = { ...fields, op };
      if (id !== undefined) frame.id = id;
      return frame;
    }),
  );

/** Raw WebSocket frames: random headers, opcodes, masks and lengths (a client must mask; the node must cope). */
const rawWebSocketBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 15 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 7 }),
      fc.boolean(),
      fc.constantFrom(0, 5, 125, 126, 127),
      fc.uint8Array({ maxLength: 40 }),
    )
    .map(([opcode, fin, rsv, masked, lengthCode, payload]) => {
      const header = [(fin ? 0x80 : 0) | (rsv << 4) | opcode, (masked ? 0x80 : 0) | lengthCode];
      if (lengthCode === 126) header.push(0xff, 0xff);
      if (lengthCode === 127) header.push(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
      const mask = masked ? [1, 2, 3, 4] : [];
      return Uint8Array.from([...header, ...mask, ...payload]);
    }),
);

export const clientInput: fc.Arbitrary<ClientFuzzInput> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('request' as const), node: fc.nat({ max: 2 }), frame: clientFrame }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('bytes' as const), node: fc.nat({ max: 2 }), bytes: hostileFrameBytes(clientFrame, frameId) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      node: fc.nat({ max: 2 }),
      text: fc.oneof(
        clientFrame.map((frame) => JSON.stringify(frame) ?? ''),
        fc.string({ maxLength: 100 }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rawWebSocket' as const), node: fc.nat({ max: 2 }), bytes: rawWebSocketBytes }) },
);

/** The bytes a frame input puts in its WebSocket message. */
export function frameBytes(input: ClientFuzzInput): Uint8Array | string {
  if (input.kind === 'request') return encode(input.frame);
  if (input.kind === 'text') return input.text;
  return input.bytes;
}

/**
 * The id the node will answer under, or undefined when the frame must close the connection: it
 * is not binary msgpack as our encoder writes it, not a map, or has no safe-integer id.
 */
export function replyIdOf(input: ClientFuzzInput): number | undefined {
  if (input.kind === 'text' || input.kind === 'rawWebSocket') return undefined;
  try {
    const frame = decodeChecked(input.kind === 'request' ? encode(input.frame) : input.bytes, CLIENT_FRAME_LIMITS);
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
    const id = (frame as { id?: unknown }).id;
    return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A long poll may be held up to its waitMs: its reply is awaited only at the end of the run. */
export function isSlow(input: ClientFuzzInput): boolean {
  if (input.kind !== 'request') return false;
  const waitMs = input.frame.waitMs;
  return input.frame.op === 'receive' && typeof waitMs === 'number' && Number.isInteger(waitMs) && waitMs > 1000;
}

/** Whether a frame from the node keeps the protocol: a reply or a push; the reason when it does not. */
export function judgeClientFrame(data: Buffer): { id?: number; code?: string } | { problem: string } {
  let frame: unknown;
  try {
    frame = decode(data);
  } catch (error) {
    return { problem: `the node sent bytes that do not decode: ${String(error)}` };
  }
  if (typeof frame !== 'object' || frame === null) return { problem: `the node sent a frame that is no map: ${JSON.stringify(frame)}` };
  const fields = frame as Record<string, unknown>;
  if (fields.push !== undefined) {
    if ((fields.push === 'deliver' || fields.push === 'closed') && typeof fields.subscription === 'number') return {};
    return { problem: `a malformed push frame: ${JSON.stringify(fields).slice(0, 300)}` };
  }
  if (typeof fields.id !== 'number') return { problem: `a reply without a numeric id: ${JSON.stringify(fields).slice(0, 300)}` };
  if (fields.ok === true) return { id: fields.id };
  const error = fields.error as { code?: unknown; message?: unknown } | undefined;
  if (fields.ok !== false || typeof error !== 'object' || error === null)
    return { problem: `a reply neither ok nor an error: ${JSON.stringify(fields).slice(0, 300)}` };
  if (typeof error.code !== 'string' || !ERROR_CODES.has(error.code) || typeof error.message !== 'string')
    return { problem: `an error reply without a known code and a message: ${JSON.stringify(fields).slice(0, 300)}` };
  if (error.code === 'INTERNAL') return { problem: `an INTERNAL error reply: ${error.message}` };
  return { id: fields.id, code: error.code };
}

/** Close codes a node may end a client connection with after bad input (docs/protocol.md). */
export const ALLOWED_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1008]);

interface Owed {
  count: number;
  readonly slow: boolean;
  readonly sentAt: number;
  readonly description: string;
}

/** Tallies of what came back, for the suite's summary. */
export interface ClientTallies {
  replies: number;
  errorReplies: number;
  pushes: number;
  closes: Map<number, number>;
  unexpectedCloses: number;
  rawWebSocketCloses: number;
  /** Error replies by code. */
  codes: Map<string, number>;
}

export function newClientTallies(): ClientTallies {
  return { replies: 0, errorReplies: 0, pushes: 0, closes: new Map(), unexpectedCloses: 0, rawWebSocketCloses: 0, codes: new Map() };
}

/**
 * A long-lived client connection that frames expecting replies go on. It checks every frame the
 * node sends and remembers which ids it still owes.
 */
export class ReplyLink {
  private socket: WebSocket | undefined;
  private readonly owed = new Map<number, Owed>();
  closedWith: number | undefined;

  constructor(
    private readonly url: string,
    private readonly tallies: ClientTallies,
    private readonly onProblem: (problem: string) => void,
  ) {}

  async send(bytes: Uint8Array, id: number, slow: boolean, description: string): Promise<void> {
    const socket = await this.open();
    const owed = this.owed.get(id);
    if (owed === undefined) this.owed.set(id, { count: 1, slow, sentAt: Date.now(), description });
    else owed.count++;
    socket.send(bytes);
  }

  /** Ids still owed a reply (slow ones only when `includeSlow`). */
  pending(includeSlow: boolean): Owed[] {
    return [...this.owed.values()].filter((owed) => includeSlow || !owed.slow);
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  private async open(): Promise<WebSocket> {
    if (this.socket !== undefined && this.socket.readyState === WebSocket.OPEN) return this.socket;
    const socket = await openClientSocket(this.url);
    this.socket = socket;
    this.closedWith = undefined;
    socket.on('message', (data: Buffer) => this.onMessage(data));
    socket.on('close', (code: number) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.closedWith = code;
      // Replies owed on a closed connection are lost, as the protocol allows after a close.
      if (this.owed.size > 0) {
        this.tallies.unexpectedCloses++;
        if (!ALLOWED_CLOSE_CODES.has(code)) this.onProblem(`a connection with ${this.owed.size} replies owed closed with ${code}`);
      }
      this.owed.clear();
    });
    return socket;
  }

  private onMessage(data: Buffer): void {
    const verdict = judgeClientFrame(data);
    if ('problem' in verdict) {
      this.onProblem(verdict.problem);
      return;
    }
    if (verdict.id === undefined) {
      this.tallies.pushes++;
      return;
    }
    this.tallies.replies++;
    if (verdict.code !== undefined) {
      this.tallies.errorReplies++;
      this.tallies.codes.set(verdict.code, (this.tallies.codes.get(verdict.code) ?? 0) + 1);
    }
    const owed = this.owed.get(verdict.id);
    if (owed === undefined) {
      this.onProblem(`a reply to id ${verdict.id}, which no frame on this connection carried`);
      return;
    }
    if (--owed.count === 0) this.owed.delete(verdict.id);
  }
}

/** Opens a client WebSocket, retrying while the node refuses upgrades for a while (503). */
export async function openClientSocket(url: string, timeoutMs = 20_000): Promise<WebSocket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 5_000 });
    socket.on('error', () => undefined);
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('close', () => resolve(false));
      socket.once('unexpected-response', (request) => {
        request.destroy();
        resolve(false);
      });
    });
    if (opened) return socket;
    socket.terminate();
    if (Date.now() > deadline) throw new Error(`no client WebSocket to ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Sends a frame that must close its connection on a connection of its own, and checks how it
 * ended: closed with 1002/1008, or (when the frame was acceptable after all) a valid reply.
 */
export async function sendClosingFrame(url: string, payload: Uint8Array | string, tallies: ClientTallies, closeWithinMs: number): Promise<string | undefined> {
  const socket = await openClientSocket(url);
  const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
  let problem: string | undefined;
  let replied = false;
  socket.on('message', (data: Buffer) => {
    const verdict = judgeClientFrame(data);
    if ('problem' in verdict) problem ??= verdict.problem;
    else replied = true;
  });
  socket.send(payload, { binary: typeof payload !== 'string' });
  const timer = setTimeout(() => socket.terminate(), closeWithinMs);
  const code = await closed;
  clearTimeout(timer);
  tallies.closes.set(code, (tallies.closes.get(code) ?? 0) + 1);
  if (problem !== undefined) return problem;
  if (replied) return undefined;
  if (!ALLOWED_CLOSE_CODES.has(code)) return code === 1006 ? `no reply and no close within ${closeWithinMs} ms` : `closed with ${code}, not 1002/1008`;
  return undefined;
}

/**
 * Upgrades by hand and writes raw bytes where WebSocket frames belong. The node may close the
 * connection, answer, or wait; whatever it does, it must survive (checked after the batch).
 */
export function sendRawWebSocket(address: string, bytes: Uint8Array, tallies: ClientTallies, waitMs: number): Promise<void> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    let upgraded = false;
    let head = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      if (upgraded) tallies.rawWebSocketCloses++;
      resolve();
    });
    socket.on('connect', () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${address}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        return;
      }
      upgraded = true;
      socket.write(bytes);
    });
  });
}
