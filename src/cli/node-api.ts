// The operator commands' way to a cluster: its HTTP API (HTTP-API.md) on any of several nodes, with
// failover. On node:http(s) rather than fetch, which takes no CA of its own (a cluster's private CA must
// not be trusted process-wide), as cluster/node-http.ts does for the repository's scripts.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UsageError } from './usage-error.ts';

/** How the commands reach the cluster: its nodes, in the order to try them, and the credentials. */
export interface ApiSettings {
  readonly servers: readonly URL[];
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** The CA that signed the nodes' certificates; without it, Node.js's built-in CAs. */
  readonly ca?: Buffer | undefined;
  /** The whole command's budget, retries and failover included. */
  readonly timeoutMs: number;
}

export interface ApiReply {
  readonly status: number;
  /** The parsed JSON body (the raw text when it is not JSON; undefined when empty). */
  readonly body: unknown;
  /** The node that answered. */
  readonly server: URL;
}

/** What a request is allowed to repeat: on another node, or after an answer that leaves its outcome unknown. */
export type Repeatable = 'idempotent' | 'once';

/** The command failed: the server refused it (its status and error code) or no server answered (`status` 0). */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

/** Refusals after which nothing was written: another node, or the same one a moment later, may take the request. */
const NOTHING_WRITTEN = new Set(['NO_LEADER', 'SHUTTING_DOWN', 'OVERLOADED', 'TOO_MANY_CONNECTIONS']);
/** Answers that leave the outcome unknown: repeated only for a request that may take effect twice. */
const OUTCOME_UNKNOWN = new Set(['UNAVAILABLE', 'TIMEOUT']);
/** Connection failures before a byte of the request left: any request may go to the next node. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** One request to one node gets at most this, so that a silent node leaves time to try the others. */
const REQUEST_TIMEOUT_MS_MAX = 5_000;
/** Pause between rounds over the nodes while they answer "no leader yet" or "busy". */
const ROUND_PAUSE_MS = 250;

/**
 * A node's base URL from what an operator typed: `host:port`, `[v6]:port`, `http://host:port` or
 * `https://host:port`. A bare address is HTTPS when a CA is given (a TLS cluster), HTTP otherwise.
 */
export function serverUrl(text: string, tls: boolean): URL {
  const trimmed = text.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `${tls ? 'https' : 'http'}://${trimmed}`);
  } catch {
    throw new UsageError(`--server ${text} is neither host:port nor a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server ${text}: only http:// and https:// are served`);
  if (!hasScheme && url.port === '') throw new UsageError(`--server ${text} needs a port (host:port)`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw new UsageError(`--server ${text}: give the node's address without a path`);
  return url;
}

export class NodeApi {
  private readonly deadline: number;

  constructor(private readonly settings: ApiSettings) {
    if (settings.servers.length === 0) throw new UsageError('no --server given');
    this.deadline = Date.now() + settings.timeoutMs;
  }

  /** The URL of `address` (`host:port`, as /cluster names members) with the scheme of the servers given. */
  memberUrl(address: string): URL {
    return new URL(`${this.settings.servers[0]!.protocol}//${address}`);
  }

  /**
   * Sends the request to the first node that takes it. The next node is tried when one cannot be
   * reached or answers that it wrote nothing (no leader, shutting down, overloaded), in rounds until
   * the time is up while some node is there but busy. A request that is `once` is never repeated
   * after it may have taken effect (an answer of UNAVAILABLE or TIMEOUT, a connection lost mid-way):
   * the failure is reported instead. Any other refusal (401, 404, 400...) is final.
   */
  async send(method: string, path: string, repeatable: Repeatable, body?: unknown): Promise<ApiReply> {
    let last: CommandFailure | undefined;
    for (;;) {
      let busy = false;
      for (const server of this.settings.servers) {
        if (this.remainingMs() <= 0) break;
        let reply: RawReply;
        try {
          reply = await this.once(server, method, path, body, Math.min(this.remainingMs(), REQUEST_TIMEOUT_MS_MAX));
        } catch (error) {
          const failure = error as RequestFailure;
          if (!failure.connected || repeatable === 'idempotent') {
            last = new CommandFailure('UNREACHABLE', `${server.host}: ${failure.message}`);
            continue;
          }
          throw new CommandFailure('NO_ANSWER', `${server.host} did not answer (${failure.message}); the request may or may not have taken effect`);
        }
        if (reply.status < 400) return { status: reply.status, body: reply.body, server };
        const failure = refusalOf(reply, server);
        const retry = NOTHING_WRITTEN.has(failure.code) || (repeatable === 'idempotent' && OUTCOME_UNKNOWN.has(failure.code));
        if (!retry) throw failure;
        last = failure;
        busy = true;
      }
      if (!busy || this.remainingMs() <= ROUND_PAUSE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
    }
    if (last === undefined) throw new CommandFailure('TIMEOUT', `no answer within ${this.settings.timeoutMs} ms`);
    if (last.code === 'UNREACHABLE') {
      throw new CommandFailure('UNREACHABLE', `no node answered: ${this.settings.servers.map((server) => server.host).join(', ')} (last: ${last.message})`);
    }
    throw last;
  }

  /** One request to one node, no failover: for what is about that node (its health, its own view). */
  async sendTo(server: URL, method: string, path: string, timeoutMs: number): Promise<ApiReply> {
    const reply = await this.once(server, method, path, undefined, timeoutMs);
    if (reply.status >= 400 && reply.status !== 503) throw refusalOf(reply, server);
    return { status: reply.status, body: reply.body, server };
  }

  /**
   * A GET whose answer is streamed rather than parsed (a backup): from the first node that answers
   * 200, trying the next when one cannot be reached or says it is busy or has no leader. The
   * timeout bounds the wait for the answer to start, and any silence within it after.
   */
  async download(path: string): Promise<{ response: IncomingMessage; server: URL }> {
    let last: CommandFailure | undefined;
    for (;;) {
      let busy = false;
      for (const server of this.settings.servers) {
        if (this.remainingMs() <= 0) break;
        let response: IncomingMessage;
        try {
          // The whole budget: a node packs a large state before its answer starts.
          response = await this.open(server, path, this.remainingMs());
        } catch (error) {
          last = new CommandFailure('UNREACHABLE', `${server.host}: ${(error as Error).message}`);
          continue;
        }
        if (response.statusCode === 200) return { response, server };
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        const failure = refusalOf({ status: response.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString('utf8')) }, server);
        if (!NOTHING_WRITTEN.has(failure.code) && !OUTCOME_UNKNOWN.has(failure.code)) throw failure;
        last = failure;
        busy = true;
      }
      if (!busy || this.remainingMs() <= ROUND_PAUSE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
    }
    throw last ?? new CommandFailure('TIMEOUT', `no answer within ${this.settings.timeoutMs} ms`);
  }

  private open(server: URL, path: string, timeoutMs: number): Promise<IncomingMessage> {
    const headers: Record<string, string> = {};
    if (this.settings.token !== undefined) headers.authorization = `Bearer ${this.settings.token}`;
    const tls = server.protocol === 'https:';
    const settings = {
      host: server.hostname.startsWith('[') ? server.hostname.slice(1, -1) : server.hostname,
      port: server.port === '' ? (tls ? 443 : 80) : Number(server.port),
      path,
      method: 'GET',
      headers,
      timeout: timeoutMs,
      agent: false,
    } as const;
    return new Promise((resolve, reject) => {
      const request = tls ? httpsRequest({ ...settings, ...(this.settings.ca === undefined ? {} : { ca: this.settings.ca }) }) : httpRequest(settings);
      request.on('response', resolve);
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end();
    });
  }

  private remainingMs(): number {
    return this.deadline - Date.now();
  }

  private once(server: URL, method: string, path: string, body: unknown, timeoutMs: number): Promise<RawReply> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.token !== undefined) headers.authorization = `Bearer ${this.settings.token}`;
    if (text !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    const tls = server.protocol === 'https:';
    const settings = {
      host: server.hostname.startsWith('[') ? server.hostname.slice(1, -1) : server.hostname,
      port: server.port === '' ? (tls ? 443 : 80) : Number(server.port),
      path,
      method,
      headers,
      timeout: timeoutMs,
      // One socket per request, closed after it: nothing keeps the command's process alive.
      agent: false,
    } as const;
    return new Promise((resolve, reject) => {
      let connected = false;
      const request = tls ? httpsRequest({ ...settings, ...(this.settings.ca === undefined ? {} : { ca: this.settings.ca }) }) : httpRequest(settings);
      request.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once(tls ? 'secureConnect' : 'connect', () => (connected = true));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString('utf8')) }));
        response.on('error', (error) => reject(requestFailure(error, true)));
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(requestFailure(error, connected && !NOT_CONNECTED.has(error.code ?? ''))));
      request.end(text);
    });
  }
}

interface RawReply {
  readonly status: number;
  readonly body: unknown;
}

interface RequestFailure extends Error {
  /** Whether the request may have reached the node (a connection was made). */
  readonly connected: boolean;
}

function requestFailure(error: Error, connected: boolean): RequestFailure {
  const code = (error as NodeJS.ErrnoException).code;
  return Object.assign(new Error(code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message), { connected });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The contract's error body `{ error: { code, message } }`, or what stands in for it. */
function refusalOf(reply: RawReply, server: URL): CommandFailure {
  const error = (reply.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${reply.status}`;
  const message = typeof error?.message === 'string' ? error.message : typeof reply.body === 'string' ? reply.body.slice(0, 200) : `status ${reply.status}`;
  return new CommandFailure(code, `${message} (${server.host})`, reply.status);
}
