import type { IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';
import { decode, encode } from '../shared/codec.ts';
import { CLIENT_SOCKET_PATH, type PushFrame, type ReplyFrame, type ResultFor, type SocketRequest } from '../shared/index.ts';
import { zeroMask } from '../shared/unmasked-frames.ts';
import { coalesceWrites } from '../transport/write-coalescing.ts';
import { QuorumqError } from './client-errors.ts';
import { SilenceWatch } from './timing.ts';

interface Waiting {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: QuorumqError) => void;
  readonly timer: NodeJS.Timeout;
}

/** What the owner of a connection hears besides replies. */
export interface ConnectionEvents {
  /** A push frame (a subscription's delivery). Never called before the replies that precede it are handled. */
  readonly onPush: (connection: NodeConnection, frame: PushFrame) => void;
  /** The connection is gone, whoever closed it; called once. */
  readonly onClose: (connection: NodeConnection) => void;
}

const NO_EVENTS: ConnectionEvents = { onPush: () => undefined, onClose: () => undefined };

/** PEM text, as a string or a Buffer, or several of them (a CA bundle, say). */
export type PemInput = string | Buffer | readonly (string | Buffer)[];

/** TLS towards nodes started with `--tls-cert`/`--tls-key`; the client then dials `wss://`. */
export interface ClientTlsOptions {
  /** The CA that signed the nodes' certificates (the nodes' `--tls-ca`); without it, Node.js's built-in CAs. */
  readonly ca?: PemInput;
  /** A client certificate, for nodes that ask one of their clients. */
  readonly cert?: PemInput;
  /** The private key of `cert`. */
  readonly key?: PemInput;
  /** `false` accepts any node certificate, so anyone in between could read the token: local experiments only. */
  readonly rejectUnauthorized?: boolean;
}

/**
 * How the client dials every node of the cluster, built once from its options: one value threaded
 * to every connection, so that no connection (a move to the leader, say) is opened without them.
 */
export interface DialOptions {
  readonly scheme: 'ws' | 'wss';
  /** Sent with every upgrade request (the bearer token). */
  readonly headers: Readonly<Record<string, string>>;
  /** Handed by ws to `tls.connect`; empty without TLS. ws picks the servername from the address. */
  readonly tls: Readonly<Pick<ClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>>;
  /** Whether a token is sent, so that a 401 can say which fix applies. */
  readonly withToken: boolean;
}

/** A token's length, as nodes bound it; anything longer is refused here rather than by every node. */
const TOKEN_LENGTH_MAX = 512;
/** Visible ASCII only, as nodes accept: a control character would also break the header. */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;
/** How much of a refused upgrade's answer is read for its reason: an error body is a line of JSON. */
const REFUSAL_BODY_BYTES_MAX = 4096;
const REFUSAL_MESSAGE_LENGTH_MAX = 300;
/** Node's codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** The dial options for `token` and `tls`, checked: a bad token fails at `connect`, not at every dial. */
export function dialOptionsOf(token: string | undefined, tls: ClientTlsOptions | undefined): DialOptions {
  if (token !== undefined && (token.length > TOKEN_LENGTH_MAX || !TOKEN_PATTERN.test(token))) {
    throw new QuorumqError('BAD_REQUEST', `token must be 1 to ${TOKEN_LENGTH_MAX} visible ASCII characters (no spaces)`);
  }
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (tls === undefined) return { scheme: 'ws', headers, tls: {}, withToken: token !== undefined };
  const tlsOptions = {
    ...(tls.ca === undefined ? {} : { ca: pemOption(tls.ca) }),
    ...(tls.cert === undefined ? {} : { cert: pemOption(tls.cert) }),
    ...(tls.key === undefined ? {} : { key: pemOption(tls.key) }),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
  return { scheme: 'wss', headers, tls: tlsOptions, withToken: token !== undefined };
}

/** `tls.connect` takes a mutable array; the caller's stays untouched. */
function pemOption(pem: PemInput): string | Buffer | (string | Buffer)[] {
  return typeof pem === 'string' || Buffer.isBuffer(pem) ? pem : [...pem];
}

/**
 * A node that is paused or cut off keeps its socket open and simply stops answering: the client
 * pings it and gives the connection up when nothing at all came back for a while, so its requests
 * fail over in about a second instead of waiting out their own timeouts. The wait is about the
 * cluster's election timeout (0.5-1 s by default): a leader silent that long is being replaced,
 * and a client on the leader (as the SDK prefers) should be gone by the time the new one is elected.
 */
const PING_EVERY_MS = 200;
const SILENT_FOR_MS_MAX = 800;
/**
 * A ping timer that fires up to this late has met ordinary jitter (a GC pause, a busy turn); later
 * than that, the client's own event loop was held, and the wait is not counted as the node's silence.
 */
const PING_LAG_TOLERANCE_MS = 100;

/** One WebSocket to one node, with requests matched to replies by id. */
export class NodeConnection {
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  private closed = false;
  /**
   * Not `Date.now() - lastHeard`: that counted the client's own stalls as the node's silence. A job
   * that held the event loop for 1.5 s let no ping out and no pong in, and the timer, which runs
   * before the socket is read once the loop is free, saw 1.5 s of silence and dropped a live node:
   * the node gave the job's lease back, the job ran again elsewhere, and the same happened there.
   */
  private readonly silence = new SilenceWatch(
    { intervalMs: PING_EVERY_MS, silentForMsMax: SILENT_FOR_MS_MAX, lagToleranceMs: PING_LAG_TOLERANCE_MS },
    performance.now(),
  );
  private readonly pinger: NodeJS.Timeout;

  private constructor(
    readonly address: string,
    private readonly socket: WebSocket,
    private readonly events: ConnectionEvents,
  ) {
    socket.on('message', (data: Buffer) => {
      this.silence.heard(performance.now());
      this.onFrame(data);
    });
    // The node's own pings (it checks its clients too) are word from it as much as its pongs.
    socket.on('pong', () => this.silence.heard(performance.now()));
    socket.on('ping', () => this.silence.heard(performance.now()));
    this.pinger = setInterval(() => this.checkAlive(), PING_EVERY_MS);
    this.pinger.unref();
    socket.on('close', () => {
      clearInterval(this.pinger);
      this.failAll(new QuorumqError('UNAVAILABLE', `connection to ${address} closed; the outcome is unknown`));
      events.onClose(this);
    });
    socket.on('error', () => socket.terminate());
  }

  /**
   * Opens a connection to `address`. A node that refuses the upgrade with 401 or 403 fails it with
   * UNAUTHORIZED or FORBIDDEN, which are final: the refusal is about the client's credentials, not
   * about that node, so trying the others would only repeat it until the call's retry budget ran out.
   */
  static open(address: string, dial: DialOptions, timeoutMs: number, events: ConnectionEvents = NO_EVENTS): Promise<NodeConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${dial.scheme}://${address}${CLIENT_SOCKET_PATH}`, {
        ...dial.tls,
        headers: { ...dial.headers },
        handshakeTimeout: timeoutMs,
        perMessageDeflate: false,
        followRedirects: false,
        generateMask: zeroMask,
      });
      socket.binaryType = 'nodebuffer';
      let refused = false;
      socket.once('open', () => resolve(new NodeConnection(address, socket, events)));
      // With this listener ws leaves the refused request to us: read why, then end it.
      socket.once('unexpected-response', (_request, response) => {
        refused = true;
        void refusalOf(address, response, dial, timeoutMs).then((error) => {
          reject(error);
          socket.terminate();
        });
      });
      // `on`, not `once`: ending a refused handshake emits an error too, and an unheard one would throw.
      socket.on('error', (error: Error) => {
        if (!refused) reject(dialFailure(address, error));
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** The reply's result, typed by the protocol's declaration for the request's op (`ResultFor`). */
  request<Request extends SocketRequest>(request: Request, timeoutMs: number): Promise<ResultFor<Request>> {
    if (!this.isOpen) return Promise.reject(new QuorumqError('UNAVAILABLE', `connection to ${this.address} is closed`));
    const id = this.nextId++;
    // The one place a decoded result gets its type: the node is trusted to answer each op as the
    // protocol declares (client-protocol.ts, OperationResults); the SDK does not check its shape.
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new QuorumqError('TIMEOUT', `no answer from ${this.address} within ${timeoutMs} ms; the outcome is unknown`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      coalesceWrites(this.socket);
      this.socket.send(encode(frameOf(request, id)));
    }) as Promise<ResultFor<Request>>;
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    this.failAll(new QuorumqError('UNAVAILABLE', 'the client was closed'));
  }

  private checkAlive(): void {
    if (this.silence.tick(performance.now())) {
      this.socket.terminate();
      return;
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  private onFrame(data: Buffer): void {
    let frame: ReplyFrame | PushFrame;
    try {
      frame = decode(data) as ReplyFrame | PushFrame;
    } catch {
      this.socket.terminate();
      return;
    }
    if ('push' in frame) {
      // A subscribe reply resolves a promise whose awaiting code runs in later microtasks; a push
      // right behind it in the same read waits for the next turn, once that code has run.
      setImmediate(() => this.events.onPush(this, frame));
      return;
    }
    this.onReply(frame);
  }

  private onReply(reply: ReplyFrame): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    clearTimeout(waiting.timer);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(new QuorumqError(reply.error.code, reply.error.message, undefined, reply.error.retryAfterMs));
  }

  private failAll(error: QuorumqError): void {
    this.closed = true;
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }
}

/** The error a node's refusal of the upgrade stands for: 401 and 403 are final, anything else is that node's trouble. */
async function refusalOf(address: string, response: IncomingMessage, dial: DialOptions, timeoutMs: number): Promise<QuorumqError> {
  const status = response.statusCode ?? 0;
  const reason = reasonIn(await bodyPrefix(response, REFUSAL_BODY_BYTES_MAX, timeoutMs));
  const said = reason === undefined ? '' : ` (${reason})`;
  if (status === 401) {
    const fix = dial.withToken ? 'the token given as `token` is not one the node knows' : 'the node wants a token: give one as `token`';
    return new QuorumqError('UNAUTHORIZED', `${address} refused the connection with 401${said}; ${fix}`);
  }
  if (status === 403) return new QuorumqError('FORBIDDEN', `${address} refused the connection with 403${said}`);
  return new QuorumqError('UNAVAILABLE', `cannot reach ${address}: it answered the upgrade with ${status}${said}`);
}

/** The first `bytesMax` bytes of a response's body, or what came before it ended, failed or took too long. */
function bodyPrefix(response: IncomingMessage, bytesMax: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).subarray(0, bytesMax));
    };
    const timer = setTimeout(finish, timeoutMs);
    response.on('data', (chunk: Buffer) => {
      if (done) return;
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytesMax) finish();
    });
    response.once('end', finish);
    response.once('close', finish);
    response.on('error', finish);
  });
}

/** The `code: message` of an error body `{error: {code, message}}`, cut short; undefined for any other body. */
function reasonIn(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const parts = [error.code, error.message].filter((part): part is string => typeof part === 'string');
  return parts.length === 0 ? undefined : parts.join(': ').slice(0, REFUSAL_MESSAGE_LENGTH_MAX);
}

/** A failed dial, in words that point at the fix when TLS is the cause. */
function dialFailure(address: string, error: Error): QuorumqError {
  const code: unknown = (error as NodeJS.ErrnoException).code;
  const detail = typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  const hint = typeof code === 'string' ? tlsHint(code, error.message) : undefined;
  return new QuorumqError('UNAVAILABLE', `cannot reach ${address}: ${hint === undefined ? detail : `${hint} (${detail})`}`, error);
}

/** What a TLS failure means for the client's options; undefined for a failure that is not about TLS. */
function tlsHint(code: string, message: string): string | undefined {
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) return "its TLS certificate is not trusted: give the CA that signed the nodes' certificates as `tls.ca`";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'its TLS certificate does not name this address';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'its TLS certificate is outside its validity period';
  // OpenSSL's words for a plain-text answer to a TLS hello; Node gives them no code of their own.
  if (code === 'EPROTO' && message.includes('wrong version number')) return 'it does not speak TLS: leave out `tls` for a node started without --tls-cert';
  return undefined;
}

/** The wire frame of a request: the frame's own `id` correlates the reply, so a message's id travels as `messageId`. */
function frameOf(request: SocketRequest, id: number): Record<string, unknown> {
  if (request.op === 'getMessage') return { op: request.op, queue: request.queue, messageId: request.id, stale: request.stale, id };
  return { ...request, id };
}
